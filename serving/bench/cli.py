"""``plantserve bench``: an open- or closed-loop load generator for any TF Serving endpoint.

    plantserve bench fuel --target http://localhost:8501 --mode open --rate 500 --duration-seconds 10
    plantserve bench defect --target localhost:8500 --mode closed --concurrency 16 --out var/bench

Writes ``NAME.json`` (the summary), ``NAME-samples.csv`` (every request) and ``NAME.png``
(percentile curve and latency over time) under ``--out``, and prints a summary table.
Exit code 1 when no request succeeded in the measured window.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Mapping

from serving import settings as spec
from serving.bench.settings import BenchSettings

__all__ = ["add_arguments", "run", "settings_from_args", "format_result"]

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model name, e.g. fuel")
    spec.add_arguments(parser, BenchSettings)


def settings_from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> BenchSettings:
    """Flags over ``PLANTSERVE_BENCH_*`` env over defaults; ValueError (a SettingsError) on bad input."""
    return spec.build(BenchSettings, args, env, model=args.model)


def format_result(result: dict[str, Any]) -> str:
    lat = result["latency_ms"]

    def ms(key: str) -> str:
        return "-" if lat[key] is None else f"{lat[key]:.2f}"

    load = f"rate {result['rate']:g}/s" if result["mode"] == "open" else f"concurrency {result['concurrency']}"
    lines = [
        f"{result['model']} over {result['protocol']} ({result['mode']} loop, {load}, {result['workers']} worker(s))",
        f"  throughput   {result['throughput_per_second']:.1f}/s ok, {result['sent_per_second']:.1f}/s sent, "
        f"{result['requests']} requests in {result['duration_seconds']:g}s",
        "  latency ms   " + "  ".join(f"{k} {ms(k)}" for k in ("p50", "p90", "p99", "p99.9", "max")),
        "  errors       " + (", ".join(f"{k}: {v}" for k, v in result["errors"].items()) or "none"),
        f"  results      {result['samples_csv'].rsplit('-samples.csv', 1)[0]}.json"
        + (f", {result['png']}" if result["png"] else "") + f", {result['samples_csv']}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        print(f"plantserve bench: {exc}", file=sys.stderr)
        return 2
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    from serving.bench.session import run_bench
    from serving.client.errors import ClientError, InvalidInput

    try:
        result = run_bench(settings)
    except (InvalidInput, ValueError, FileNotFoundError) as exc:
        print(f"plantserve bench: {exc}", file=sys.stderr)
        return 2
    except ClientError as exc:
        print(f"plantserve bench: cannot read the model's signature: {exc}", file=sys.stderr)
        return 1
    print(format_result(result))
    return 0 if result["ok"] else 1
