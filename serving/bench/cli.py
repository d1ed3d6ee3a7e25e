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
from pathlib import Path
from typing import Any

from serving.bench.settings import MODES, BenchSettings

__all__ = ["add_arguments", "run", "settings_from_args", "format_result"]

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model name, e.g. fuel")
    parser.add_argument("--target", required=True, help="gRPC host:port / dns:///... or REST http://host:port")
    parser.add_argument("--mode", choices=MODES, default="closed",
                        help="open: constant --rate, latency from scheduled time; closed: --concurrency in flight")
    parser.add_argument("--rate", type=float, default=0.0, help="open loop: requests per second")
    parser.add_argument("--concurrency", type=int, default=8, help="closed loop: requests in flight")
    parser.add_argument("--connections", type=int, default=64, help="open loop over REST: max connections")
    parser.add_argument("--warmup-seconds", type=float, default=2.0)
    parser.add_argument("--duration-seconds", type=float, default=10.0)
    parser.add_argument("--timeout-seconds", type=float, default=5.0, help="per-request deadline")
    parser.add_argument("--workers", type=int, default=0, help="load processes (0: 1 for REST, 2 for gRPC)")
    parser.add_argument("--signature", default="serving_default")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", type=int)
    which.add_argument("--label", help="version label (default: none, the newest version)")
    parser.add_argument("--batch", type=int, default=1, help="rows per request when inputs are synthesised")
    parser.add_argument("--json", type=Path, dest="input_json", help="request inputs (as for plantserve predict)")
    parser.add_argument("--out", type=Path, default=Path("var/bench"), help="directory for JSON, CSV and PNG")
    parser.add_argument("--name", default="bench", help="file name stem for the outputs")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG")
    parser.add_argument("--ca-cert", type=Path)
    parser.add_argument("--client-cert", type=Path)
    parser.add_argument("--client-key", type=Path)


def settings_from_args(args: argparse.Namespace) -> BenchSettings:
    return BenchSettings(
        target=args.target, model=args.model, mode=args.mode, rate=args.rate, concurrency=args.concurrency,
        connections=args.connections, warmup_seconds=args.warmup_seconds, duration_seconds=args.duration_seconds,
        timeout_seconds=args.timeout_seconds, workers=args.workers, signature=args.signature,
        version=args.version, label=args.label, batch=args.batch, input_json=args.input_json, out_dir=args.out,
        name=args.name, plot=not args.no_plot, ca_cert=args.ca_cert, client_cert=args.client_cert,
        client_key=args.client_key)


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
