"""Run as a script: ``plantserve ARGS...`` with tensorflow and tensorflow_serving unimportable.

Usage: python -m tests.sidecar.no_tensorflow sidecar --store ... (any plantserve arguments)
When the command returns (a sidecar on SIGTERM), the last line printed is JSON: the blocked modules
that were loaded and those whose import was attempted (both must stay empty).
"""
from __future__ import annotations

import json
import sys

from tests.blocking import Blocker
from tests.client.no_tensorflow import BLOCKED


def main() -> int:
    blocker = Blocker(BLOCKED).install()
    from serving.cli import main as plantserve

    code = plantserve(sys.argv[1:])
    print(json.dumps(blocker.report()), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
