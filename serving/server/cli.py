"""``plantserve serve``: tensorflow_model_server's flags, TF Serving's behaviour.

The dispatcher builds an argparse sub-parser; TF Serving's flags do not follow argparse's rules
(``--name=value`` only, unknown flags are reported and ignored, a bad value exits 255), so this module
asks the dispatcher for the raw arguments (``RAW_ARGS``) and parses them itself (``serving.server.flags``).
"""
from __future__ import annotations

import argparse

__all__ = ["RAW_ARGS", "add_arguments", "run"]

#: The dispatcher passes every argument after ``serve`` untouched, as ``args.raw_args``.
RAW_ARGS = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = "plantserve serve --port=8500 --rest_api_port=8501 --model_name=NAME --model_base_path=PATH ..."


def run(args: argparse.Namespace) -> int:
    from serving.server.app import serve

    return serve(list(args.raw_args))
