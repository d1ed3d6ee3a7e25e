"""``plantserve train fuel|defect --store URI [...]``.

Exit codes: 0 published; 1 the quality gate refused (nothing published); 2 bad input
(arguments, data dir, store), with one actionable message and nothing half-published.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from serving.signing.flags import add_signing_arguments, signing_config
from serving.store.s3 import SSE_MODES

from .settings import MODELS, STRATEGIES, TrainSettings

__all__ = ["add_arguments", "run", "settings_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", choices=MODELS, help="which plant model to train")
    parser.add_argument("--store", default=os.environ.get("PLANTSERVE_STORE"),
                        help="where to publish: DIR, file://DIR or s3://BUCKET/PREFIX [PLANTSERVE_STORE]")
    parser.add_argument("--strategy", choices=STRATEGIES, default="full",
                        help="full: from scratch; incremental: warm-start from the latest version; "
                             "finetune: freeze its feature layers and train the head")
    parser.add_argument("--epochs", type=int, help="training epochs (default: fuel 800 with early stopping, defect 20)")
    parser.add_argument("--data-dir", type=Path, help="defect: one folder of images per class")
    parser.add_argument("--data-file", type=Path, help="fuel: extra rows (CSV/JSON with Auto MPG columns)")
    parser.add_argument("--force", action="store_true", help="publish even if the quality gate refuses (recorded)")
    parser.add_argument("--gate-tolerance", type=float, default=0.10,
                        help="how much worse than the latest version the new one may be (fraction, default 0.10)")
    parser.add_argument("--gate-threshold", type=float,
                        help="absolute bound on the primary metric (fuel: max MAE, default 3.0; "
                             "defect: min accuracy, default 0.90)")
    parser.add_argument("--seed", type=int, default=0, help="data, split and initialisation seed")
    parser.add_argument("--samples-per-class", type=int, default=1000, help="defect generator: images per class")
    parser.add_argument("--s3-endpoint-url", default=os.environ.get("PLANTSERVE_S3_ENDPOINT_URL"),
                        help="S3-compatible endpoint, e.g. MinIO [PLANTSERVE_S3_ENDPOINT_URL; AWS_ENDPOINT_URL]")
    parser.add_argument("--s3-sse", choices=SSE_MODES, default=os.environ.get("PLANTSERVE_S3_SSE"),
                        help="ask S3 to encrypt the uploaded objects at rest [PLANTSERVE_S3_SSE]")
    parser.add_argument("--s3-sse-kms-key-id", default=os.environ.get("PLANTSERVE_S3_SSE_KMS_KEY_ID"),
                        help="with --s3-sse aws:kms: the KMS key id, ARN or alias (default: the account's S3 key) "
                             "[PLANTSERVE_S3_SSE_KMS_KEY_ID]")
    parser.add_argument("--explain-steps", type=int,
                        help="integrated-gradients steps of the explain signature: more is more exact and slower "
                             "(default: fuel 256, defect 80)")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch or upload progress")
    add_signing_arguments(parser)


def _fail(parser_msg: str) -> int:
    print(f"plantserve train: error: {parser_msg}", file=sys.stderr)
    return 2


def settings_from_args(args: argparse.Namespace) -> TrainSettings:
    if not args.store:
        raise ValueError("--store is required (or set PLANTSERVE_STORE)")
    if args.epochs is not None and args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {args.epochs}")
    if not 0 <= args.gate_tolerance < 1:
        raise ValueError(f"--gate-tolerance must be in [0, 1), got {args.gate_tolerance}")
    if args.samples_per_class < 10:
        raise ValueError(f"--samples-per-class must be >= 10, got {args.samples_per_class}")
    if args.explain_steps is not None and not 1 <= args.explain_steps <= 4096:
        raise ValueError(f"--explain-steps must be between 1 and 4096, got {args.explain_steps}")
    if args.data_dir is not None and args.model != "defect":
        raise ValueError("--data-dir applies to the defect model only")
    if args.data_file is not None and args.model != "fuel":
        raise ValueError("--data-file applies to the fuel model only")
    if args.data_file is not None and not args.data_file.is_file():
        raise ValueError(f"--data-file {args.data_file} does not exist")
    signing = signing_config(args)
    if signing is not None:
        from serving.signing import load_signer

        load_signer(signing)  # a bad key, password or certificate fails now, not after training
    settings = TrainSettings(model=args.model, store=args.store, strategy=args.strategy, epochs=args.epochs,
                             data_dir=args.data_dir, data_file=args.data_file, force=args.force,
                             gate_tolerance=args.gate_tolerance, gate_threshold=args.gate_threshold, seed=args.seed,
                             samples_per_class=args.samples_per_class, s3_endpoint_url=args.s3_endpoint_url,
                             verbose=not args.quiet, signing=signing, s3_sse=args.s3_sse,
                             s3_sse_kms_key_id=args.s3_sse_kms_key_id,
                             explain_steps=args.explain_steps)
    settings.s3_options()  # --s3-sse-kms-key-id without aws:kms fails now
    return settings


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace) -> int:
    from serving.store import StoreError

    from .data.imagedir import DataDirError
    from .strategies import StrategyError

    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        return _fail(str(exc))
    from .pipeline import GateRefused, train_and_publish

    # SIGTERM (a Job's deadline, a stopped demo) unwinds like Ctrl-C, so a publish in progress
    # removes its partial upload instead of dying mid-write.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        train_and_publish(settings)
    except GateRefused as exc:
        print(f"plantserve train: {exc}", file=sys.stderr)
        return 1
    except (StoreError, DataDirError, StrategyError, ValueError) as exc:
        return _fail(str(exc))
    return 0
