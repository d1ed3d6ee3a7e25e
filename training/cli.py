"""``plantserve train fuel|defect --store URI [...]``.

Exit codes: 0 published; 1 the quality gate refused (nothing published); 2 bad input
(arguments, data dir, store), with one actionable message and nothing half-published.
"""
from __future__ import annotations

import argparse
import signal
import sys

from serving import settings as spec
from serving.signing.flags import add_signing_arguments, signing_config

from .settings import MODELS, TrainSettings

__all__ = ["add_arguments", "run", "settings_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", choices=MODELS, help="which plant model to train")
    spec.add_arguments(parser, TrainSettings)
    add_signing_arguments(parser)


def _fail(parser_msg: str) -> int:
    print(f"plantserve train: error: {parser_msg}", file=sys.stderr)
    return 2


def settings_from_args(args: argparse.Namespace) -> TrainSettings:
    """Flags over ``PLANTSERVE_*`` env over defaults (``serving.settings``); raises ValueError on bad input."""
    signing = signing_config(args)
    if signing is not None:
        from serving.signing import load_signer

        load_signer(signing)  # a bad key, password or certificate fails now, not after training
    return spec.build(TrainSettings, args, model=args.model, signing=signing)


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
