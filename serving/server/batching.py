"""Server-side batching (``--enable_batching``): concurrent calls of one signature are merged along the
0th dimension, up to ``max_batch_size`` rows, waiting at most ``batch_timeout_micros`` for more.

Parameters come from a text ``BatchingParameters`` (TF Serving's defaults when absent). A batch is padded
up to the next ``allowed_batch_sizes`` entry; when ``max_enqueued_batches`` batches are already waiting,
a call fails with UNAVAILABLE as TF Serving's does.
"""
from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from serving.server.metrics import ServingMetrics
from serving.server.servable import Call, Signature
from serving.server.status import Code, ServingError

__all__ = ["BatchingOptions", "BatchScheduler", "options_from_proto"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class BatchingOptions:
    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 10
    num_batch_threads: int = 4
    thread_pool_name: str = "model_server_batch_threads"
    allowed_batch_sizes: tuple[int, ...] = ()


def options_from_proto(proto) -> BatchingOptions:
    """Validate and convert a ``BatchingParameters`` message. Raises ValueError with TF Serving's words."""
    d = BatchingOptions()
    get = lambda field, default: getattr(proto, field).value if proto.HasField(field) else default  # noqa: E731
    opts = BatchingOptions(
        max_batch_size=get("max_batch_size", d.max_batch_size),
        batch_timeout_micros=get("batch_timeout_micros", d.batch_timeout_micros),
        max_enqueued_batches=get("max_enqueued_batches", d.max_enqueued_batches),
        num_batch_threads=get("num_batch_threads", d.num_batch_threads),
        thread_pool_name=get("thread_pool_name", "batch_threads"),
        allowed_batch_sizes=tuple(proto.allowed_batch_sizes))
    sizes = opts.allowed_batch_sizes
    if sizes:
        if any(b <= a for a, b in zip(sizes, sizes[1:])):
            raise ValueError("allowed_batch_sizes entries must be monotonically increasing")
        if sizes[-1] != opts.max_batch_size:
            raise ValueError("Last entry in allowed_batch_sizes must match max_batch_size; last entry was "
                             f"{sizes[-1]}; expected {opts.max_batch_size}")
    if opts.max_batch_size <= 0 or opts.num_batch_threads <= 0 or opts.max_enqueued_batches <= 0:
        raise ValueError("max_batch_size, num_batch_threads and max_enqueued_batches must be positive")
    return opts


@dataclasses.dataclass
class _Task:
    arrays: list[np.ndarray]
    size: int
    enqueued: float
    future: Future


class _Queue:
    """One signature (and one shape of the non-batch dimensions): forms batches on its own thread."""

    def __init__(self, call: Call, opts: BatchingOptions, pool: ThreadPoolExecutor, metrics: ServingMetrics) -> None:
        self._call, self._opts, self._pool, self._metrics = call, opts, pool, metrics
        self._tasks: collections.deque[_Task] = collections.deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        threading.Thread(target=self._form, name="batcher", daemon=True).start()

    def submit(self, task: _Task) -> None:
        with self._cond:
            waiting = -(-sum(t.size for t in self._tasks) // self._opts.max_batch_size)
            if waiting + self._in_flight >= self._opts.max_enqueued_batches + 1:
                raise ServingError(Code.UNAVAILABLE,
                                   "The batch scheduling queue to which this task was submitted is full")
            self._tasks.append(task)
            self._cond.notify()

    def _form(self) -> None:
        timeout = self._opts.batch_timeout_micros / 1e6
        while True:
            with self._cond:
                while not self._tasks:
                    self._cond.wait()
                first = self._tasks[0].enqueued
                while (sum(t.size for t in self._tasks) < self._opts.max_batch_size
                       and time.monotonic() < first + timeout):
                    self._cond.wait(first + timeout - time.monotonic())
                batch, rows = [], 0
                while self._tasks and rows + self._tasks[0].size <= self._opts.max_batch_size:
                    task = self._tasks.popleft()
                    batch.append(task)
                    rows += task.size
                self._in_flight += 1
            self._pool.submit(self._run, batch, rows)

    def _run(self, batch: list[_Task], rows: int) -> None:
        try:
            now = time.monotonic()
            if self._metrics.queuing_latency is not None:
                for task in batch:
                    self._metrics.queuing_latency.observe(self._opts.thread_pool_name, value=(now - task.enqueued) * 1e6)
                self._metrics.wrapped_run_count.inc()
            padded = next((s for s in self._opts.allowed_batch_sizes if s >= rows), rows)
            inputs = []
            for i in range(len(batch[0].arrays)):
                merged = np.concatenate([t.arrays[i] for t in batch]) if len(batch) > 1 else batch[0].arrays[i]
                if padded > rows:
                    merged = np.concatenate([merged, np.repeat(merged[:1], padded - rows, axis=0)])
                inputs.append(merged)
            outputs = self._call(inputs)
            for out in outputs:
                if out.ndim == 0 or out.shape[0] != padded:
                    raise ServingError(Code.FAILED_PRECONDITION,
                                       "Batched output tensor has 0th dimension not equal to the batch size")
            offset = 0
            for task in batch:
                task.future.set_result([out[offset:offset + task.size] for out in outputs])
                offset += task.size
        except BaseException as exc:  # noqa: BLE001 - every waiting caller gets the batch's error
            for task in batch:
                if not task.future.done():
                    task.future.set_exception(exc)
        finally:
            with self._cond:
                self._in_flight -= 1


class BatchScheduler:
    """Wraps signatures' calls so that concurrent calls share one run."""

    def __init__(self, opts: BatchingOptions, metrics: ServingMetrics) -> None:
        self._opts, self._metrics = opts, metrics
        self._pool = ThreadPoolExecutor(opts.num_batch_threads, thread_name_prefix=opts.thread_pool_name)
        metrics.enable_batching_metrics()

    def wrap(self, signature: Signature) -> Call:
        queues: dict[tuple, _Queue] = {}
        lock = threading.Lock()
        raw = signature.call
        opts = self._opts

        def call(arrays: list[np.ndarray]) -> list[np.ndarray]:
            if any(a.ndim == 0 for a in arrays):
                raise ServingError(Code.INVALID_ARGUMENT,
                                   "Batching session Run() input tensors must have at least one dimension")
            size = arrays[0].shape[0]
            if any(a.shape[0] != size for a in arrays):
                raise ServingError(Code.INVALID_ARGUMENT, "Batching session Run() input tensors must have equal "
                                   "0th-dimension size")
            if size > opts.max_batch_size:
                raise ServingError(Code.INVALID_ARGUMENT,
                                   f"Task size {size} is larger than maximum input batch size {opts.max_batch_size}")
            if size == 0:
                return raw(arrays)
            key = tuple((a.dtype.str, a.shape[1:]) for a in arrays)
            with lock:
                queue = queues.get(key)
                if queue is None:
                    queue = queues[key] = _Queue(raw, opts, self._pool, self._metrics)
            future: Future = Future()
            queue.submit(_Task(arrays, size, time.monotonic(), future))
            return future.result()
        return call
