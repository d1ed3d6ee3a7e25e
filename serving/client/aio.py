"""``AsyncPredictClient``: the gRPC client for asyncio code, kept to predict, metadata and status.

Same channel (round robin, UNAVAILABLE-only retries, keepalive, TLS), same addressing (the
``stable`` label by default) and the same typed errors as :class:`PredictClient`. Inputs are a
dict of arrays (no single-input lookup).

>>> async def main():  # doctest: +SKIP
...     async with AsyncPredictClient("dns:///plantserve-grpc:8500") as client:
...         return (await client.predict("defect", {"image": images}))["class_id"]
"""
from __future__ import annotations

from typing import Any, Mapping

import grpc

from serving.client.channel import channel_options, credentials
from serving.client.errors import error_for_code
from serving.client.grpc_client import METHODS, fill_model_spec, predict_request, prediction_from
from serving.client.inputs import named_inputs
from serving.client.results import ModelMetadata, Prediction, VersionStatus
from serving.client.settings import ClientSettings
from serving.protocol import messages

__all__ = ["AsyncPredictClient"]

_PS = "/tensorflow.serving.PredictionService/"
_STATUS = "/tensorflow.serving.ModelService/GetModelStatus"


def _no_sole_input() -> str:
    raise TypeError("AsyncPredictClient.predict takes a dict of arrays keyed by input name")


class AsyncPredictClient:
    def __init__(self, target: str | ClientSettings, **settings: Any) -> None:
        self.settings = target if isinstance(target, ClientSettings) else ClientSettings(target=target, **settings)
        options = channel_options(self.settings)
        target = self.settings.target
        self._channel = (grpc.aio.secure_channel(target, credentials(self.settings), options=options)
                         if self.settings.uses_tls else grpc.aio.insecure_channel(target, options=options))
        self._stubs = {path: self._channel.unary_unary(path, request_serializer=req.SerializeToString,
                                                       response_deserializer=resp.FromString)
                       for path, (req, resp) in METHODS.items()}

    async def predict(self, model: str, inputs: Mapping[str, Any], *, version: int | None = None,
                      label: str | None = None, signature: str | None = None,
                      timeout: float | None = None) -> Prediction:
        ref = self.settings.model_ref(model, version=version, label=label, signature=signature)
        response = await self._call(_PS + "Predict", predict_request(ref, named_inputs(inputs, _no_sole_input)),
                                    timeout)
        return prediction_from(response)

    async def metadata(self, model: str, *, version: int | None = None, label: str | None = None,
                       timeout: float | None = None) -> ModelMetadata:
        request = messages.GetModelMetadataRequest(metadata_field=["signature_def"])
        fill_model_spec(request.model_spec, self.settings.model_ref(model, version=version, label=label),
                        signature=False)
        return ModelMetadata.from_proto(await self._call(_PS + "GetModelMetadata", request, timeout))

    async def status(self, model: str, *, version: int | None = None,
                     timeout: float | None = None) -> list[VersionStatus]:
        request = messages.GetModelStatusRequest()
        request.model_spec.name = model
        if version is not None:
            request.model_spec.version.value = version
        response = await self._call(_STATUS, request, timeout)
        return [VersionStatus.from_proto(s) for s in response.model_version_status]

    async def _call(self, path: str, request: Any, timeout: float | None) -> Any:
        try:
            return await self._stubs[path](request, timeout=self.settings.timeout_seconds if timeout is None
                                           else timeout)
        except grpc.aio.AioRpcError as exc:
            raise error_for_code(exc.code().name, exc.details() or "", self.settings.target) from exc

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> "AsyncPredictClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
