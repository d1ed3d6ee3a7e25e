"""The gRPC load loop: pre-serialized PredictRequest bytes sent with gRPC futures.

Closed loop: ``slots`` calls in flight; each answer's callback sends the next. Open loop: this
thread sends each request at its due time (at once when behind) and never waits for answers;
latency counts from the due time. Calls are not retried, so every error is counted.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import grpc

from serving.bench.payload import PREDICT_PATH
from serving.bench.samples import Samples
from serving.bench.worker_plan import WorkerPlan
from serving.client.channel import open_channel
from serving.client.settings import ClientSettings

__all__ = ["run_grpc"]

_MAX_IN_FLIGHT = 20_000


def run_grpc(plan: WorkerPlan) -> Samples:
    ca, cert, key = plan.tls
    settings = ClientSettings(target=plan.target, retry_attempts=1, timeout_seconds=plan.timeout_seconds,
                              ca_cert=Path(ca) if ca else None, client_cert=Path(cert) if cert else None,
                              client_key=Path(key) if key else None)
    channel = open_channel(settings)
    call = channel.unary_unary(PREDICT_PATH)  # bytes in, bytes out: no (de)serialisation in the loop
    samples = Samples.empty()
    end = plan.start + plan.total_seconds
    lock = threading.Condition()
    in_flight = [0]
    closed_loop = plan.mode == "closed"
    request, timeout = plan.payload, plan.timeout_seconds

    def issue(scheduled: float) -> None:
        sent = time.monotonic()
        with lock:
            in_flight[0] += 1
        future = call.future(request, timeout=timeout)
        future.add_done_callback(lambda f: on_done(f, scheduled, sent))

    def on_done(future: grpc.Future, scheduled: float, sent: float) -> None:
        done = time.monotonic()
        code = future.code().name
        with lock:  # callbacks run on several threads; keep the four columns aligned
            samples.add(scheduled, sent, done, code)
            in_flight[0] -= 1
            lock.notify_all()
        if closed_loop and done < end:
            issue(done)

    grpc.channel_ready_future(channel).result(timeout=max(plan.timeout_seconds, 10.0))
    _sleep_until(plan.start)
    if closed_loop:
        for _ in range(plan.slots):
            issue(time.monotonic())
    else:
        interval, first_due, count = 1.0 / plan.rate, plan.start + plan.offset, 0
        due = first_due
        while due < end:
            _sleep_until(due)
            with lock:
                while in_flight[0] >= _MAX_IN_FLIGHT:
                    lock.wait(0.01)
            issue(due)
            count += 1
            due = first_due + count * interval  # by index: no drift from repeated adds
    with lock:
        lock.wait_for(lambda: in_flight[0] == 0, timeout=max(0.0, end - time.monotonic()) + timeout + 1.0)
    channel.close()
    return samples


def _sleep_until(when: float) -> None:
    delay = when - time.monotonic()
    if delay > 0:
        time.sleep(delay)  # pacing the schedule, not synchronisation
