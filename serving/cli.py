"""``plantserve``: the one CLI. Each subcommand lives in its own module, imported only when used,
so ``plantserve predict`` never imports TensorFlow.

A subcommand module exposes ``add_arguments(parser)`` and ``run(args) -> int``. A module whose
flags follow another tool's rules (``serve`` takes tensorflow_model_server's) sets ``RAW_ARGS = True``
and gets everything after its name untouched, as ``args.raw_args``.
Exit codes: 0 success, 1 failure at run time, 2 bad input (arguments, data, store).
``--log-level`` (env ``PLANTSERVE_LOG_LEVEL``) is one flag for every subcommand, before or after its name.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import logging
import os
import sys

from serving import settings as spec
from serving.settings import SettingsError, setting

__all__ = ["main", "SUBCOMMANDS", "CommonSettings"]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _log_level(value: str) -> str | None:
    return None if value.upper() in LOG_LEVELS else f"must be one of {', '.join(LOG_LEVELS)}"


@dataclasses.dataclass(frozen=True)
class CommonSettings:
    """What every subcommand takes, before or after its name."""

    log_level: str = setting("INFO", help=f"log level: {', '.join(LOG_LEVELS)} (any case)", check=_log_level)

    def __post_init__(self) -> None:
        object.__setattr__(self, "log_level", self.log_level.upper())

#: name -> (module, one-line help). Order is the order shown in --help.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "train": ("training.cli", "train a model and publish a verified version to a store"),
    "serve": ("serving.server.cli", "TensorFlow Serving-compatible model server for one machine"),
    "sidecar": ("serving.sidecar.cli", "sync, verify, roll out and roll back versions next to a server"),
    "rollout": ("serving.sidecar.rollout_cli", "fleet decisions: status, pin, unpin, block, rollback"),
    "verify": ("serving.signing.cli", "check a published version's signature offline; show who signed it and what"),
    "predict": ("serving.client.cli", "call a model over gRPC or REST and print a table"),
    "explain": ("serving.client.explain_cli", "why a model answered as it did, and whether to trust the input"),
    "bench": ("serving.bench.cli", "open- or closed-loop load generator for any TF Serving endpoint"),
    "demo": ("serving.demo", "the whole stack on one machine"),
}


def _load(name: str):
    module, _ = SUBCOMMANDS[name]
    return importlib.import_module(module)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    common = argparse.ArgumentParser(add_help=False)
    spec.add_arguments(common, CommonSettings, suppress=True)
    parser = argparse.ArgumentParser(prog="plantserve", description=__doc__.splitlines()[0], parents=[common])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = next((a for a in argv if a in SUBCOMMANDS), None)
    raw: list[str] | None = None
    if chosen is not None and getattr(_load(chosen), "RAW_ARGS", False):
        split = argv.index(chosen) + 1
        argv, raw = argv[:split], argv[split:]
    for name, (_module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        if name == chosen:
            _load(name).add_arguments(p)
    args = parser.parse_args(argv)
    if raw is not None:
        args.raw_args = raw
    # TensorFlow's C++ start-up chatter (CUDA probing, CPU flags) is noise for operators.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        common_settings = spec.build(CommonSettings, args)
    except SettingsError as exc:
        print(f"plantserve: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=common_settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(_load(args.command).run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
