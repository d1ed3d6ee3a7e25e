"""Prepare a model store for the conformance suite, for ``plantserve serve`` or a real TF Serving.

``python -m tests.conformance.layout STORE [--model-root /models]`` adds ``swap/1`` (a copy of ``fuel/1``,
the model the file-system tests change) and ``legacy/1`` (a TF1-era model, :mod:`tests.conformance.legacy`),
and writes ``STORE/models.config`` and ``STORE/monitoring.config`` with base paths as the server sees
them (``--model-root``).
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

MODELS = ("fuel", "defect", "swap", "legacy")
METRICS_PATH = "/monitoring/prometheus/metrics"


def model_config(model_root: str, models=MODELS, extra: dict[str, str] | None = None) -> str:
    entries = " ".join(
        f'config {{ name: "{m}" base_path: "{model_root.rstrip("/")}/{m}" model_platform: "tensorflow" '
        f'{(extra or {}).get(m, "")} }}' for m in models)
    return f"model_config_list {{ {entries} }}\n"


def prepare(store: Path, model_root: str | None = None) -> Path:
    store = Path(store)
    for model in ("fuel", "defect"):
        if not (store / model / "1" / "saved_model.pb").exists():
            raise SystemExit(f"{store / model / '1'} is missing: run `plantserve train {model} --store {store}`")
    swap = store / "swap"
    if not (swap / "1").exists():
        swap.mkdir(exist_ok=True)
        shutil.copytree(store / "fuel" / "1", swap / ".staging-1")
        (swap / ".staging-1").rename(swap / "1")
    if not (store / "legacy" / "1").exists():
        from tests.conformance.legacy import export_legacy

        (store / "legacy").mkdir(exist_ok=True)
        export_legacy(store / "legacy" / "1")
    (store / "models.config").write_text(model_config(model_root or str(store.resolve())))
    (store / "monitoring.config").write_text(f'prometheus_config {{ enable: true, path: "{METRICS_PATH}" }}\n')
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--model-root", default="/models", help="the store's path inside the server (container)")
    args = parser.parse_args()
    prepare(args.store, args.model_root)
    print(f"wrote {args.store / 'models.config'} and {args.store / 'monitoring.config'}")


if __name__ == "__main__":
    main()
