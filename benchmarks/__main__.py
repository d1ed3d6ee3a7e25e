"""``make bench``: run every ``benchmarks/bench_*.py`` (or those named on the command line).

Each module exposes ``main() -> None`` and prints the peer's figure beside ours, with the ratio.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks


def main(argv: list[str]) -> int:
    names = argv or sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    failed = []
    for name in names:
        print(f"\n===== {name} =====", flush=True)
        started = time.monotonic()
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception as exc:  # noqa: BLE001 - run the others, report at the end
            failed.append(name)
            print(f"{name} FAILED: {exc!r}", flush=True)
        print(f"({name}: {time.monotonic() - started:.0f}s)", flush=True)
    if failed:
        print(f"\nfailed benchmarks: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
