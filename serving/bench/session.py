"""One bench run end to end: build the request, run the workers, write JSON, samples CSV and PNG.

>>> from serving.bench.settings import BenchSettings
>>> result = run_bench(BenchSettings(target="http://127.0.0.1:8501", model="fuel"))  # doctest: +SKIP
>>> result["latency_ms"]["p99"]  # doctest: +SKIP
"""
from __future__ import annotations

import importlib.util
import json
import logging
import time
from typing import Any

from serving.bench.payload import build_payload, load_inputs, synthesize
from serving.bench.runner import run_plans
from serving.bench.samples import write_csv
from serving.bench.settings import BenchSettings
from serving.bench.stats import summarize
from serving.bench.worker_plan import split
from serving.client.settings import ClientSettings, ModelRef

__all__ = ["run_bench"]

log = logging.getLogger(__name__)


def _client(settings: BenchSettings):
    client_settings = ClientSettings(target=settings.target, default_label=None,
                                     timeout_seconds=max(settings.timeout_seconds, 10.0),
                                     ca_cert=settings.ca_cert, client_cert=settings.client_cert,
                                     client_key=settings.client_key)
    if settings.protocol == "rest":
        from serving.client.rest_client import RestClient

        return RestClient(client_settings)
    from serving.client.grpc_client import PredictClient

    return PredictClient(client_settings)


def run_bench(settings: BenchSettings) -> dict[str, Any]:
    if settings.plot and importlib.util.find_spec("matplotlib") is None:
        raise ValueError("the PNG needs matplotlib (pip install 'plantserve[full]'); or pass --no-plot")
    ref = ModelRef(settings.model, settings.version, settings.label, settings.signature)
    with _client(settings) as client:
        meta = client.metadata(ref.name, version=ref.version, label=ref.label)
    if ref.signature not in meta.signatures:
        raise ValueError(f"model {ref.name!r} has no signature {ref.signature!r}; it has {sorted(meta.signatures)}")
    sig = meta.signatures[ref.signature]
    inputs = load_inputs(settings.input_json, sig) if settings.input_json else synthesize(sig, settings.batch)
    payload = build_payload(settings.target, ref, inputs)
    workers = settings.effective_workers
    slots = settings.concurrency if settings.mode == "closed" else settings.connections
    plans = split(protocol=settings.protocol, mode=settings.mode, target=settings.target,
                  payload=payload.http_request if settings.protocol == "rest" else payload.grpc_request,
                  workers=workers, slots=slots, rate=settings.rate if settings.mode == "open" else 0.0,
                  start=0.0, total_seconds=settings.total_seconds, timeout_seconds=settings.timeout_seconds,
                  tls=tuple(str(p) if p else None for p in (settings.ca_cert, settings.client_cert,
                                                             settings.client_key)))  # type: ignore[arg-type]
    log.info("bench %s %s-loop on %s: %d worker(s), %s, %.0fs warmup + %.0fs", ref.name, settings.mode,
             settings.target, workers, f"{settings.rate:g}/s" if settings.mode == "open"
             else f"concurrency {settings.concurrency}", settings.warmup_seconds, settings.duration_seconds)
    wall_started = time.time()
    samples, start, cpu_seconds = run_plans(plans)
    result = {
        "name": settings.name, "target": settings.target, "protocol": settings.protocol, "mode": settings.mode,
        "model": ref.name, "version": ref.version, "label": ref.label, "signature": ref.signature,
        "batch": int(next(iter(inputs.values())).shape[0]) if inputs and next(iter(inputs.values())).ndim else 1,
        "rate": settings.rate if settings.mode == "open" else None,
        "concurrency": settings.concurrency if settings.mode == "closed" else None,
        "connections": settings.connections if settings.mode == "open" and settings.protocol == "rest" else None,
        "workers": workers, "warmup_seconds": settings.warmup_seconds,
        "duration_seconds": settings.duration_seconds, "started_at_unix": wall_started,
        **summarize(samples, start=start, warmup_seconds=settings.warmup_seconds,
                    duration_seconds=settings.duration_seconds),
        # The load loops' own CPU (all workers): shows how close the generator is to its limit.
        "generator_cpu_seconds": cpu_seconds,
        "generator_cpu_us_per_request": cpu_seconds / max(1, len(samples)) * 1e6,
        "samples_csv": str(settings.samples_path),
        "png": str(settings.png_path) if settings.plot else None,
    }
    write_csv(samples, start, start + settings.warmup_seconds, settings.samples_path)
    if settings.plot:
        from serving.bench.plot import write_png

        write_png(samples, start=start, warmup_seconds=settings.warmup_seconds, result=result,
                  path=settings.png_path)
    tmp = settings.json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(settings.json_path)
    return result
