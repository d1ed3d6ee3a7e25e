"""The demo's one frozen settings object, built once from flags (and ``PLANTSERVE_STORE``).

Example::

    >>> import argparse
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> s = DemoSettings.from_args(p.parse_args(["--store", "/tmp/s", "--bench-seconds", "2"]), env={})
    >>> s.bench_seconds, s.model_base_path.name
    (2.0, 'models')
"""
from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Mapping

__all__ = ["DemoSettings", "DemoSettingsError", "add_arguments", "MODELS"]

#: The two plant models, in the order they are trained and shown.
MODELS = ("fuel", "defect")


class DemoSettingsError(ValueError):
    """A flag value is wrong; the message names the flag."""


@dataclasses.dataclass(frozen=True)
class DemoSettings:
    #: Where versions live: a directory, file://PATH or s3://BUCKET/PREFIX.
    store: str
    #: Logs, the sidecar's model volume, the bench report and plots.
    work_dir: Path = Path("var/demo")
    #: Training epochs for missing models and for the incremental version (None: the models' defaults).
    epochs: int | None = None
    #: Never train the first versions: fail when a model has no valid version in the store.
    skip_train: bool = False
    #: Skip the incremental publish and rollout (step 5).
    skip_rollout: bool = False
    bench_seconds: float = 10.0
    bench_warmup_seconds: float = 2.0
    bench_concurrency: int = 4
    cars: int = 6
    images: int = 5
    ready_timeout_seconds: float = 300.0
    rollout_timeout_seconds: float = 300.0
    train_timeout_seconds: float = 900.0
    #: The sidecar's store poll interval: how soon it notices the new version.
    poll_interval_seconds: float = 1.0
    #: The sidecar's latency gate, loosened for a busy laptop (production defaults: 1.5 and 2 ms).
    latency_p99_ratio: float = 3.0
    latency_slack_ms: float = 10.0
    #: Keep the stack up after the summary until Ctrl-C.
    keep_running: bool = False
    s3_endpoint_url: str | None = None

    @property
    def model_base_path(self) -> Path:
        return self.work_dir / "models"

    @property
    def logs_dir(self) -> Path:
        return self.work_dir / "logs"

    @property
    def bench_dir(self) -> Path:
        return self.work_dir / "bench"

    @property
    def is_s3(self) -> bool:
        return self.store.startswith("s3://")

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> "DemoSettings":
        env = os.environ if env is None else env
        store = args.store or env.get("PLANTSERVE_STORE") or "var/store"
        positive = {"--bench-seconds": args.bench_seconds, "--bench-concurrency": args.bench_concurrency,
                    "--cars": args.cars, "--images": args.images,
                    "--ready-timeout-seconds": args.ready_timeout_seconds,
                    "--rollout-timeout-seconds": args.rollout_timeout_seconds,
                    "--train-timeout-seconds": args.train_timeout_seconds,
                    "--poll-interval-seconds": args.poll_interval_seconds,
                    "--latency-p99-ratio": args.latency_p99_ratio}
        for flag, value in positive.items():
            if value <= 0:
                raise DemoSettingsError(f"{flag} must be > 0, got {value}")
        for flag, value in {"--bench-warmup-seconds": args.bench_warmup_seconds,
                            "--latency-slack-ms": args.latency_slack_ms}.items():
            if value < 0:
                raise DemoSettingsError(f"{flag} must be >= 0, got {value}")
        if args.epochs is not None and args.epochs < 1:
            raise DemoSettingsError(f"--epochs must be >= 1, got {args.epochs}")
        return cls(store=store, work_dir=Path(args.work_dir).resolve(), epochs=args.epochs,
                   skip_train=args.skip_train, skip_rollout=args.skip_rollout,
                   bench_seconds=float(args.bench_seconds), bench_warmup_seconds=float(args.bench_warmup_seconds),
                   bench_concurrency=args.bench_concurrency, cars=args.cars, images=args.images,
                   ready_timeout_seconds=args.ready_timeout_seconds,
                   rollout_timeout_seconds=args.rollout_timeout_seconds,
                   train_timeout_seconds=args.train_timeout_seconds,
                   poll_interval_seconds=args.poll_interval_seconds, latency_p99_ratio=args.latency_p99_ratio,
                   latency_slack_ms=args.latency_slack_ms, keep_running=args.keep_running,
                   s3_endpoint_url=args.s3_endpoint_url or env.get("PLANTSERVE_S3_ENDPOINT_URL") or None)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=None,
                        help="DIR, file://DIR or s3://BUCKET/PREFIX (S3 credentials and endpoint from the AWS env, "
                             "e.g. AWS_ENDPOINT_URL) [PLANTSERVE_STORE; default var/store]")
    parser.add_argument("--work-dir", default="var/demo",
                        help="logs, the sidecar's model volume, bench report and plots (default var/demo)")
    parser.add_argument("--epochs", type=int, help="training epochs for missing models and the new fuel version "
                                                   "(default: the models' own, fuel 800 with early stopping)")
    parser.add_argument("--skip-train", action="store_true",
                        help="never train the first versions; fail if a model has none in the store")
    parser.add_argument("--skip-rollout", action="store_true", help="skip publishing and rolling out a new fuel version")
    parser.add_argument("--bench-seconds", type=float, default=10.0, help="measured bench window (default 10)")
    parser.add_argument("--bench-warmup-seconds", type=float, default=2.0, help="bench warmup (default 2)")
    parser.add_argument("--bench-concurrency", type=int, default=4, help="closed-loop bench concurrency (default 4)")
    parser.add_argument("--cars", type=int, default=6, help="real cars to predict (default 6)")
    parser.add_argument("--images", type=int, default=5, help="inspection images to classify (default 5)")
    parser.add_argument("--ready-timeout-seconds", type=float, default=300.0,
                        help="deadline for the server and sidecar to become ready (default 300)")
    parser.add_argument("--rollout-timeout-seconds", type=float, default=300.0,
                        help="deadline for the sidecar to promote or reject the new version (default 300)")
    parser.add_argument("--train-timeout-seconds", type=float, default=900.0,
                        help="deadline for one training run (default 900)")
    parser.add_argument("--poll-interval-seconds", type=float, default=1.0,
                        help="the sidecar's store poll interval (default 1)")
    parser.add_argument("--latency-p99-ratio", type=float, default=3.0,
                        help="the sidecar's latency gate, loose for a busy laptop (default 3; production 1.5)")
    parser.add_argument("--latency-slack-ms", type=float, default=10.0,
                        help="the sidecar's latency slack (default 10; production 2)")
    parser.add_argument("--keep-running", action="store_true",
                        help="keep the stack up after the summary (explore the URLs), until Ctrl-C")
    parser.add_argument("--s3-endpoint-url", default=None,
                        help="S3-compatible endpoint, e.g. MinIO [PLANTSERVE_S3_ENDPOINT_URL; AWS_ENDPOINT_URL]")
