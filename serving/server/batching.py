"""Server-side batching (``--enable_batching``): concurrent calls of one signature are merged along the
0th dimension, up to ``max_batch_size`` rows, waiting at most ``batch_timeout_micros`` for more.

Parameters come from a text ``BatchingParameters`` (TF Serving's defaults when absent). A batch is padded
up to the next ``allowed_batch_sizes`` entry; when ``max_enqueued_batches`` batches are already waiting,
a call fails with UNAVAILABLE as TF Serving's does.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time

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
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    result: list[np.ndarray] | None = None
    error: BaseException | None = None


@dataclasses.dataclass
class _Batch:
    opened: float
    tasks: list[_Task] = dataclasses.field(default_factory=list)
    rows: int = 0


class _Queue:
    """One signature (and one shape of the non-batch dimensions). The first call that finds no open
    batch leads one: it waits until the batch is full or ``batch_timeout_micros`` has passed, then for
    one of ``num_batch_threads`` slots (the batch keeps filling meanwhile), runs it in its own thread
    and hands every other call its rows. No thread is woken for a batch but its callers."""

    def __init__(self, call: Call, opts: BatchingOptions, metrics: ServingMetrics,
                 slots: threading.Semaphore) -> None:
        self._call, self._opts, self._metrics, self._slots = call, opts, metrics, slots
        self._cond = threading.Condition()
        self._open: _Batch | None = None
        self._waiting = 0  # batches formed and not yet running

    def run(self, arrays: list[np.ndarray], size: int) -> list[np.ndarray]:
        task = _Task(arrays, size, time.monotonic())
        with self._cond:
            batch = self._open
            leader = batch is None or batch.rows + size > self._opts.max_batch_size
            if leader:
                if self._waiting >= self._opts.max_enqueued_batches:
                    raise ServingError(Code.UNAVAILABLE,
                                       "The batch scheduling queue to which this task was submitted is full")
                batch = self._open = _Batch(task.enqueued)
                self._waiting += 1
            batch.tasks.append(task)
            batch.rows += size
            self._cond.notify_all()
        if leader:
            self._lead(batch)
        else:
            task.done.wait()
        if task.error is not None:
            raise task.error
        return task.result

    def _lead(self, batch: _Batch) -> None:
        due = batch.opened + self._opts.batch_timeout_micros / 1e6
        with self._cond:
            self._cond.wait_for(lambda: batch.rows >= self._opts.max_batch_size, max(due - time.monotonic(), 0))
        self._slots.acquire()
        try:
            with self._cond:
                if self._open is batch:
                    self._open = None
                self._waiting -= 1
            self._execute(batch)
        finally:
            self._slots.release()

    def _execute(self, batch: _Batch) -> None:
        tasks, rows = batch.tasks, batch.rows
        try:
            now = time.monotonic()
            if self._metrics.queuing_latency is not None:
                for task in tasks:
                    self._metrics.queuing_latency.observe(self._opts.thread_pool_name, value=(now - task.enqueued) * 1e6)
                self._metrics.wrapped_run_count.inc()
            padded = next((s for s in self._opts.allowed_batch_sizes if s >= rows), rows)
            inputs = []
            for i in range(len(tasks[0].arrays)):
                merged = np.concatenate([t.arrays[i] for t in tasks]) if len(tasks) > 1 else tasks[0].arrays[i]
                if padded > rows:
                    merged = np.concatenate([merged, np.repeat(merged[:1], padded - rows, axis=0)])
                inputs.append(merged)
            outputs = self._call(inputs)
            for out in outputs:
                if out.ndim == 0 or out.shape[0] != padded:
                    raise ServingError(Code.FAILED_PRECONDITION,
                                       "Batched output tensor has 0th dimension not equal to the batch size")
            offset = 0
            for task in tasks:
                task.result = [out[offset:offset + task.size] for out in outputs]
                offset += task.size
        except BaseException as exc:  # noqa: BLE001 - every caller in the batch gets the batch's error
            for task in tasks:
                task.error = exc
        finally:
            for task in tasks:
                task.done.set()


class BatchScheduler:
    """Wraps signatures' calls so that concurrent calls share one run; at most ``num_batch_threads``
    batches run at once, across every signature (TF Serving's shared batch thread pool)."""

    def __init__(self, opts: BatchingOptions, metrics: ServingMetrics) -> None:
        self._opts, self._metrics = opts, metrics
        self._slots = threading.Semaphore(opts.num_batch_threads)
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
            queue = queues.get(key)
            if queue is None:
                with lock:
                    queue = queues.setdefault(key, _Queue(raw, opts, self._metrics, self._slots))
            return queue.run(arrays, size)
        return call
