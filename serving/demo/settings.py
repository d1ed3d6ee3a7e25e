"""The demo's one frozen settings object, declared once (flag, env, default, help, check) with
:mod:`serving.settings` and built once in ``run``.

The store and the S3 endpoint share their env names with every other command (``PLANTSERVE_STORE``,
``PLANTSERVE_S3_ENDPOINT_URL``); the demo's own knobs are ``PLANTSERVE_DEMO_*``.

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
from pathlib import Path
from typing import ClassVar, Mapping

from serving import settings as spec
from serving.settings import SettingsError, non_negative, positive, setting

__all__ = ["DemoSettings", "DemoSettingsError", "add_arguments", "MODELS"]

#: The two plant models, in the order they are trained and shown.
MODELS = ("fuel", "defect")

#: A flag or env value is wrong; the message names the flag and the env variable.
DemoSettingsError = SettingsError


def _at_least_one(value: int | None) -> str | None:
    return None if value is None or value >= 1 else "must be >= 1"


@dataclasses.dataclass(frozen=True)
class DemoSettings:
    ENV_PREFIX: ClassVar[str] = "PLANTSERVE_DEMO_"

    store: str = setting("var/store", env="PLANTSERVE_STORE",
                         help="DIR, file://DIR or s3://BUCKET/PREFIX (S3 credentials and endpoint from the AWS env, "
                              "e.g. AWS_ENDPOINT_URL)")
    work_dir: Path = setting(Path("var/demo"), help="logs, the sidecar's model volume, the bench report and plots")
    epochs: int | None = setting(help="training epochs for missing models and the new fuel version (default: the "
                                      "models' own, fuel 800 with early stopping)", check=_at_least_one)
    skip_train: bool = setting(False, help="never train the first versions; fail if a model has none in the store")
    skip_rollout: bool = setting(False, help="skip publishing and rolling out a new fuel version")
    bench_seconds: float = setting(10.0, help="measured bench window", check=positive)
    bench_warmup_seconds: float = setting(2.0, help="bench warmup", check=non_negative)
    bench_concurrency: int = setting(4, help="closed-loop bench concurrency", check=positive)
    cars: int = setting(6, help="real cars to predict", check=positive)
    images: int = setting(5, help="inspection images to classify", check=positive)
    ready_timeout_seconds: float = setting(300.0, help="deadline for the server and sidecar to become ready",
                                           check=positive)
    rollout_timeout_seconds: float = setting(300.0, help="deadline for the sidecar to promote or reject the new "
                                                         "version", check=positive)
    train_timeout_seconds: float = setting(900.0, help="deadline for one training run", check=positive)
    poll_interval_seconds: float = setting(1.0, help="the sidecar's store poll interval: how soon it notices the new "
                                                     "version", check=positive)
    latency_p99_ratio: float = setting(3.0, help="the sidecar's latency gate, loose for a busy laptop (production "
                                                 "1.5)", check=positive)
    latency_slack_ms: float = setting(10.0, help="the sidecar's latency slack (production 2)", check=non_negative)
    keep_running: bool = setting(False, help="keep the stack up after the summary (explore the URLs), until Ctrl-C")
    s3_endpoint_url: str | None = setting(env="PLANTSERVE_S3_ENDPOINT_URL",
                                          help="S3-compatible endpoint, e.g. MinIO (or AWS_ENDPOINT_URL)")

    def __post_init__(self) -> None:
        object.__setattr__(self, "work_dir", Path(self.work_dir).resolve())

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
        return spec.build(cls, args, env)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    spec.add_arguments(parser, DemoSettings)
