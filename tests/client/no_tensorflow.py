"""Run as a script: block tensorflow imports, then predict with serving.client.

Usage: python -m tests.client.no_tensorflow TARGET MODEL INPUTS_JSON [--latest]
Prints a JSON line with the outputs and the blocked imports that were attempted.
"""
from __future__ import annotations

import json
import sys

from tests.blocking import Blocker

BLOCKED = ("tensorflow", "tensorflow_serving")


def main() -> int:
    blocker = Blocker(BLOCKED).install()
    target, model, inputs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    from serving.client import PredictClient, RestClient

    cls = RestClient if target.startswith("http") else PredictClient
    kw = {"default_label": None} if "--latest" in sys.argv else {}
    with cls(target, **kw) as client:
        outputs = client.predict(model, {k: v for k, v in inputs.items()})
    print(json.dumps({"outputs": {k: v.tolist() for k, v in outputs.items()}, **blocker.report()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
