"""AsyncPredictClient: same wire contents, retries and typed errors as the sync client."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from serving.client import InvalidInput
from serving.client.aio import AsyncPredictClient
from serving.protocol import messages
from tests.client.fakes import Behaviour, FakeGrpcServer
from tests.support import free_port


def test_async_predict_metadata_retry_and_errors():
    behaviour = Behaviour(script=["UNAVAILABLE"])
    port = free_port()

    async def scenario():
        async with AsyncPredictClient(f"127.0.0.1:{port}", retry_initial_backoff_seconds=0.01) as client:
            out = await asyncio.gather(*(client.predict("fuel", {"x": np.array([i], np.float32)}) for i in range(5)))
            meta = await client.metadata("fuel")
            behaviour.script[:] = ["INVALID_ARGUMENT"]
            with pytest.raises(InvalidInput):
                await client.predict("fuel", {"x": [1.0]})
            with pytest.raises(TypeError, match="dict of arrays"):
                await client.predict("fuel", np.zeros(1))
        return out, meta

    with FakeGrpcServer(port, behaviour):
        out, meta = asyncio.run(scenario())
    assert [o["x"].tolist() for o in out] == [[0.0], [2.0], [4.0], [6.0], [8.0]]
    assert behaviour.calls == 5 + 1 + 1 + 1  # 5 predicts, 1 retry, metadata, the refused one (not retried)
    assert meta.signatures["serving_default"].inputs["x"].dtype == "DT_FLOAT"
    spec = messages.PredictRequest.FromString(behaviour.requests[0]).model_spec
    assert spec.version_label == "stable"
