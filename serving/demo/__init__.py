"""``plantserve demo``: the whole stack on one machine, in one command (``make demo``).

Trains (or reuses) both models in the store, starts ``plantserve serve`` and the sidecar on
loopback, predicts over gRPC and REST, publishes a new fuel version while requests flow and
shows the sidecar's rollout live, runs a short bench, prints a summary and shuts down. Ctrl-C
at any point stops every child process.

    plantserve demo --store var/store
    plantserve demo --store s3://bucket/prefix          # AWS_ENDPOINT_URL etc. from the env
    plantserve demo --store var/store --bench-seconds 2 --epochs 5   # a quick run

Exit codes: 0 done; 1 a step failed; 2 bad flags or an unusable store; 128+N on signal N.
"""
from __future__ import annotations

import argparse
import logging
import sys

from .settings import DemoSettingsError, add_arguments

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    from .settings import DemoSettings

    try:
        settings = DemoSettings.from_args(args)
    except DemoSettingsError as exc:
        print(f"plantserve demo: error: {exc}", file=sys.stderr)
        return 2
    _quiet_libraries()
    from .steps import Demo

    return Demo(settings, sys.stdout).run()


def _quiet_libraries() -> None:
    """The demo's output is for people: at the default INFO level, keep the AWS SDK's and the data
    loaders' start-up notes out of it (``--log-level DEBUG`` shows everything)."""
    if logging.getLogger().getEffectiveLevel() >= logging.INFO:
        for name in ("botocore", "boto3", "s3transfer", "training"):
            logging.getLogger(name).setLevel(logging.WARNING)
