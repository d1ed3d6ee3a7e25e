"""Run as a script: block tensorflow imports, then predict with serving.client.

Usage: python -m tests.client.no_tensorflow TARGET MODEL INPUTS_JSON [--latest]
Prints a JSON line with the outputs and the blocked imports that were attempted.
"""
from __future__ import annotations

import importlib.abc
import json
import sys

BLOCKED = ("tensorflow", "tensorflow_serving")
attempts: list[str] = []


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in BLOCKED:
            attempts.append(fullname)
            raise ModuleNotFoundError(f"{fullname} is blocked in this test", name=fullname)
        return None


def main() -> int:
    sys.meta_path.insert(0, Blocker())
    target, model, inputs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    from serving.client import PredictClient, RestClient

    cls = RestClient if target.startswith("http") else PredictClient
    kw = {"default_label": None} if "--latest" in sys.argv else {}
    with cls(target, **kw) as client:
        outputs = client.predict(model, {k: v for k, v in inputs.items()})
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print(json.dumps({"outputs": {k: v.tolist() for k, v in outputs.items()}, "loaded": loaded,
                      "attempts": attempts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
