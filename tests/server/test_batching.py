import threading

import numpy as np
import pytest

from serving.protocol.messages import BatchingParameters
from serving.protocol.textproto import parse_text
from serving.server.batching import BatchingOptions, BatchScheduler, options_from_proto
from serving.server.metrics import ServingMetrics
from serving.server.servable import Signature
from serving.server.status import Code, ServingError


def _signature(calls: list) -> Signature:
    def call(arrays):
        calls.append(arrays[0].shape[0])
        return [arrays[0] * 2]
    return Signature("s", None, ("x",), (1,), ("y",), call)


def test_concurrent_calls_share_one_run():
    calls: list[int] = []
    metrics = ServingMetrics()
    sched = BatchScheduler(BatchingOptions(max_batch_size=8, batch_timeout_micros=200_000, num_batch_threads=1),
                           metrics)
    call = sched.wrap(_signature(calls))
    results = {}
    barrier = threading.Barrier(4)

    def worker(i):
        barrier.wait()
        results[i] = call([np.full(2, i, np.float32)])[0].tolist()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join(10) for t in threads]
    assert results == {i: [2.0 * i, 2.0 * i] for i in range(4)}
    assert calls == [8]
    assert metrics.queuing_latency.count("batch_threads") == 0  # thread_pool_name from options
    assert metrics.queuing_latency.count("model_server_batch_threads") == 4


def test_padding_to_allowed_sizes_and_limits():
    calls: list[int] = []
    sched = BatchScheduler(BatchingOptions(max_batch_size=4, allowed_batch_sizes=(2, 4), num_batch_threads=1),
                           ServingMetrics())
    call = sched.wrap(_signature(calls))
    assert call([np.ones(3, np.float32)])[0].shape == (3,)
    assert calls == [4]
    with pytest.raises(ServingError, match="Task size 5 is larger than maximum input batch size 4"):
        call([np.ones(5, np.float32)])
    with pytest.raises(ServingError) as info:
        call([np.float32(1.0)])
    assert info.value.code == Code.INVALID_ARGUMENT


def test_options_validation():
    proto = parse_text("max_batch_size { value: 32 } allowed_batch_sizes: 8 allowed_batch_sizes: 16",
                       BatchingParameters)
    with pytest.raises(ValueError, match="Last entry in allowed_batch_sizes must match max_batch_size"):
        options_from_proto(proto)
    ok = parse_text("max_batch_size { value: 16 } batch_timeout_micros { value: 500 } "
                    "allowed_batch_sizes: 8 allowed_batch_sizes: 16", BatchingParameters)
    opts = options_from_proto(ok)
    assert (opts.max_batch_size, opts.batch_timeout_micros, opts.allowed_batch_sizes) == (16, 500, (8, 16))
