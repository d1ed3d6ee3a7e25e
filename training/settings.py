"""The one settings object of a training run, built once from flags (and env) in ``training.cli``."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from serving.settings import SettingsError, setting
from serving.store.s3 import SSE_MODES

if TYPE_CHECKING:
    from serving.signing import SigningConfig
    from serving.store import S3Options

__all__ = ["TrainSettings", "STRATEGIES", "MODELS"]

MODELS = ("fuel", "defect")
#: full: from scratch; incremental: warm-start from the latest version's weights;
#: finetune: freeze the latest version's feature layers and train the head.
STRATEGIES = ("full", "incremental", "finetune")


def _at_least(low: float, high: float | None = None):
    def check(value):
        if value is None:
            return None
        if value < low or (high is not None and value > high):
            return f"must be between {low} and {high}" if high is not None else f"must be >= {low}"
        return None
    return check


def _fraction(value: float) -> str | None:
    return None if 0 <= value < 1 else "must be in [0, 1)"


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """Declared once (flag, ``PLANTSERVE_*`` env, default, help, check) with :mod:`serving.settings`."""

    #: Which plant model (the positional argument of ``plantserve train``).
    model: str
    store: str = setting(help="where to publish: DIR, file://DIR, s3://BUCKET/PREFIX or gs://BUCKET/PREFIX",
                         required=True)
    strategy: str = setting("full", env="", choices=STRATEGIES,
                            help="full: from scratch; incremental: warm-start from the latest version's weights; "
                                 "finetune: freeze its feature layers and train the head")
    epochs: int | None = setting(env="", check=_at_least(1),
                                 help="training epochs (default: fuel 800 with early stopping, defect 20)")
    data_dir: Path | None = setting(env="", help="defect: one folder of plant images per class (default: the "
                                                 "procedural generator)")
    data_file: Path | None = setting(env="", help="fuel: extra rows (CSV/JSON, Auto MPG columns) added to the "
                                                  "training split")
    force: bool = setting(False, env="", help="publish even if the quality gate refuses (recorded in the manifest)")
    gate_tolerance: float = setting(0.10, env="", check=_fraction,
                                    help="how much worse than the latest version the new one may be (fraction of "
                                         "its primary metric)")
    gate_threshold: float | None = setting(env="", help="absolute bound on the primary metric (fuel: max MAE in mpg, "
                                                        "default 3.0; defect: min accuracy, default 0.90)")
    seed: int = setting(0, env="", help="data, split and initialisation seed")
    samples_per_class: int = setting(1000, env="", check=_at_least(10), help="defect generator: images per class")
    s3_endpoint_url: str | None = setting(help="S3-compatible endpoint, e.g. MinIO (default: AWS_ENDPOINT_URL / "
                                               "the AWS chain)")
    s3_sse: str | None = setting(choices=SSE_MODES, help="ask S3 to encrypt the uploaded objects at rest")
    s3_sse_kms_key_id: str | None = setting(help="with --s3-sse aws:kms: the KMS key id, ARN or alias (default: "
                                                 "the account's S3 key)")
    explain_steps: int | None = setting(env="", check=_at_least(1, 4096),
                                        help="integrated-gradients steps of the explain signature: more is more "
                                             "exact and slower (default: fuel 256, defect 80)")
    quiet: bool = setting(False, env="", help="no per-epoch or upload progress")
    #: Sign the version (model.sig, OpenSSF model-signing format); None publishes unsigned.
    signing: SigningConfig | None = None

    @property
    def verbose(self) -> bool:
        return not self.quiet

    def validate(self) -> None:
        if self.data_dir is not None and self.model != "defect":
            raise SettingsError("--data-dir applies to the defect model only")
        if self.data_file is not None and self.model != "fuel":
            raise SettingsError("--data-file applies to the fuel model only")
        if self.data_file is not None and not Path(self.data_file).is_file():
            raise SettingsError(f"--data-file {self.data_file} does not exist")
        self.s3_options()  # --s3-sse-kms-key-id without aws:kms fails now

    def s3_options(self) -> S3Options:
        from serving.store import S3Options

        return S3Options(endpoint_url=self.s3_endpoint_url, sse=self.s3_sse, sse_kms_key_id=self.s3_sse_kms_key_id)
