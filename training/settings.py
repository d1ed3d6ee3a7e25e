"""The one settings object of a training run, built once from flags (and env) in ``training.cli``."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from serving.signing import SigningConfig
    from serving.store import S3Options

__all__ = ["TrainSettings", "STRATEGIES", "MODELS"]

MODELS = ("fuel", "defect")
#: full: from scratch; incremental: warm-start from the latest version's weights;
#: finetune: freeze the latest version's feature layers and train the head.
STRATEGIES = ("full", "incremental", "finetune")


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    model: str
    #: Where versions are published: a directory, file://PATH or s3://BUCKET/PREFIX.
    store: str
    strategy: str = "full"
    #: None: the model's own default (fuel 800 with early stopping, defect 20).
    epochs: int | None = None
    #: defect: a folder per class of plant images; None uses the procedural generator.
    data_dir: Path | None = None
    #: fuel: extra rows (CSV or JSON, Auto MPG columns) appended to the training split.
    data_file: Path | None = None
    #: Publish even if the quality gate refuses; the override is recorded in the manifest.
    force: bool = False
    #: The new version may be worse than the latest by at most this fraction of its primary metric.
    gate_tolerance: float = 0.10
    #: Absolute bound on the primary metric (fuel: max MAE in mpg; defect: min accuracy); None: model default.
    gate_threshold: float | None = None
    #: Seed for data generation, splits and weight initialisation.
    seed: int = 0
    #: defect generator: images per class in the training split.
    samples_per_class: int = 1000
    #: Custom S3 endpoint (MinIO, loopback); None uses AWS_ENDPOINT_URL / the AWS chain.
    s3_endpoint_url: str | None = None
    #: Print per-epoch and upload progress.
    verbose: bool = True
    #: Interpolation steps of the ``explain`` signature; None: the model's default (fuel 256, defect 80).
    explain_steps: int | None = None
    #: Sign the version (model.sig, OpenSSF model-signing format); None publishes unsigned.
    signing: SigningConfig | None = None
    #: Server-side encryption of the uploaded objects: None, "AES256" or "aws:kms" (S3 stores).
    s3_sse: str | None = None
    s3_sse_kms_key_id: str | None = None

    def s3_options(self) -> S3Options:
        from serving.store import S3Options

        return S3Options(endpoint_url=self.s3_endpoint_url, sse=self.s3_sse, sse_kms_key_id=self.s3_sse_kms_key_id)
