"""Run the load in worker processes that start together, then merge their samples.

Python needs several processes to generate load without being the bottleneck; they are
spawned (not forked, which gRPC does not survive), wait at a barrier until all are ready,
and then all follow one schedule that starts at a shared ``time.monotonic()`` instant.
"""
from __future__ import annotations

import gc
import logging
import multiprocessing
import time
from typing import Any

from serving.bench.samples import FrozenSamples, merge
from serving.bench.worker_plan import WorkerPlan

__all__ = ["run_plans", "run_plan"]

log = logging.getLogger(__name__)
_START_MARGIN_SECONDS = 0.2


def run_plan(plan: WorkerPlan) -> tuple[FrozenSamples, float]:
    """Run one plan in this process; also return the CPU seconds the load loop used."""
    from serving.bench.grpc_engine import run_grpc
    from serving.bench.rest_engine import run_rest

    engine = run_rest if plan.protocol == "rest" else run_grpc
    # The loops allocate only floats and short strings: no reference cycles, so the cyclic
    # collector would only add pauses (latency outliers in our own measurement).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    cpu_started = time.process_time()
    try:
        samples = engine(plan)
    finally:
        cpu = time.process_time() - cpu_started
        if gc_was_enabled:
            gc.enable()
    return samples.freeze(), cpu


def _worker(plan: WorkerPlan, ready: Any, go: Any, start: Any, results: Any, index: int) -> None:
    # Import the engine before the barrier so start-up time is not part of the schedule.
    from serving.bench import grpc_engine, rest_engine  # noqa: F401

    ready.wait()
    go.wait()
    try:
        results.put((index, run_plan(_with_start(plan, start.value)), None))
    except Exception as exc:  # noqa: BLE001 - reported by the parent with the worker index
        results.put((index, None, f"{type(exc).__name__}: {exc}"))


def _with_start(plan: WorkerPlan, start: float) -> WorkerPlan:
    import dataclasses

    return dataclasses.replace(plan, start=start)


def run_plans(plans: list[WorkerPlan]) -> tuple[FrozenSamples, float, float]:
    """Run every plan (in-process when there is one): merged samples, start time, CPU seconds."""
    if len(plans) == 1:
        start = time.monotonic() + _START_MARGIN_SECONDS
        samples, cpu = run_plan(_with_start(plans[0], start))
        return samples, start, cpu
    ctx = multiprocessing.get_context("spawn")
    ready, go = ctx.Barrier(len(plans) + 1), ctx.Barrier(len(plans) + 1)
    start_value = ctx.Value("d", 0.0)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(plan, ready, go, start_value, results, i), daemon=True)
             for i, plan in enumerate(plans)]
    for proc in procs:
        proc.start()
    try:
        ready.wait(timeout=60)
        start = time.monotonic() + _START_MARGIN_SECONDS
        start_value.value = start
        go.wait(timeout=10)
        total = plans[0].total_seconds + plans[0].timeout_seconds + 30
        parts: list[FrozenSamples | None] = [None] * len(plans)
        cpu = 0.0
        for _ in plans:
            index, outcome, error = results.get(timeout=total)
            if error:
                raise RuntimeError(f"bench worker {index} failed: {error}")
            parts[index], worker_cpu = outcome
            cpu += worker_cpu
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
    log.debug("merged samples from %d workers", len(plans))
    return merge([p for p in parts if p is not None]), start, cpu
