"""``plantserve explain``: why a model answered as it did, and whether to trust the input.

    plantserve explain fuel --target localhost:8500 --csv cars.csv
    plantserve explain defect --target http://localhost:8501 --image a.png b.png --out overlays/
    plantserve explain defect --target localhost:8500 --image a.png --out overlays/ --class scratch

Calls the model's ``explain`` signature (``explain_class`` with ``--class``) over gRPC or REST,
like ``plantserve predict``. Tabular models print each row's prediction, the baseline it is
explained from, its top contributing features (signed, in the prediction's unit) and its trust.
Image models also write one PNG per image into ``--out``: the image with the attribution map
over it, titled with the class, its probability and the trust.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from serving.client.cli import add_connection_arguments, client_for, read_batch, settings_from_args
from serving.client.errors import ClientError, InvalidInput
from serving.client.explain import EXPLAIN_SIGNATURE, FeatureExplanation, MapExplanation
from serving.client.files import Batch
from serving.client.table import render

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model name, e.g. fuel or defect")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", type=Path, help="rows as CSV with a header; extra columns are shown as context")
    source.add_argument("--json", type=Path, help="rows as JSON (columns or a list of row objects)")
    source.add_argument("--image", type=Path, nargs="+", help="PNG/JPEG images for an image model")
    parser.add_argument("--out", type=Path, help="directory for the overlay PNGs (required with --image)")
    parser.add_argument("--class", dest="target_class", help="image models: explain this class (name or index) "
                        "instead of the predicted one")
    parser.add_argument("--top", type=int, default=3, help="contributing features to show per row (default 3)")
    add_connection_arguments(parser)


def _read(args: argparse.Namespace, client: Any) -> Batch:
    return read_batch(args, client, EXPLAIN_SIGNATURE, "retrain it with this plantserve to export one")


def _target_class(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.lstrip("-").isdigit() else value


def _feature_table(rows: list[FeatureExplanation], context: dict[str, list[str]], top: int) -> str:
    columns = {
        "prediction": np.array([f"{r.prediction:.2f}" for r in rows]),
        "baseline": np.array([f"{r.baseline:.2f}" for r in rows]),
        f"top {top} contributions": np.array([", ".join(f"{n} {v:+.2f}" for n, v in r.top(top)) for r in rows]),
        "trust (distance / threshold)": np.array([str(r.trust) for r in rows]),
    }
    return render(columns, context)


def _title(row: MapExplanation) -> str:
    title = f"{row.class_name} p={row.probability:.2f}"
    if row.explained_class != row.class_id:
        title += f"  (map: {row.explained_class_name} p={row.explained_probability:.2f})"
    return title + f"\ntrust {row.trust}"


def _map_outputs(rows: list[MapExplanation], batch: Batch, out: Path) -> tuple[str, list[Path]]:
    from serving.client.overlay import write_png

    out.mkdir(parents=True, exist_ok=True)
    images = next(iter(batch.inputs.values()))
    names = batch.context.get("image") or [f"image-{i}" for i in range(len(rows))]
    paths = [write_png(out / f"{Path(name).stem}.explain.png", images[i], row.attributions, _title(row))
             for i, (row, name) in enumerate(zip(rows, names))]
    columns = {
        "class": np.array([r.class_name for r in rows]),
        "p": np.array([f"{r.probability:.3f}" for r in rows]),
        "map of": np.array([f"{r.explained_class_name} ({r.explained_probability:.3f} vs "
                            f"{r.baseline_probability:.3f} featureless)" for r in rows]),
        "trust (distance / threshold)": np.array([str(r.trust) for r in rows]),
        "overlay": np.array([str(p) for p in paths]),
    }
    return render(columns, batch.context), paths


def _json_rows(rows: list[Any], context: dict[str, list[str]], paths: list[Path]) -> str:
    body = []
    for i, row in enumerate(rows):
        item: dict[str, Any] = {k: v[i] for k, v in context.items()}
        fields = {f.name: getattr(row, f.name) for f in row.__dataclass_fields__.values()}
        fields["trust"] = vars(row.trust)
        if isinstance(row, MapExplanation):
            fields.pop("attributions")
            fields["overlay"] = str(paths[i])
        body.append({**item, **fields})
    return json.dumps(body)


def run(args: argparse.Namespace) -> int:
    if args.image and args.out is None:
        print("plantserve explain: --out DIR is required with --image (the overlay PNGs go there)", file=sys.stderr)
        return 2
    if args.top < 1:
        print(f"plantserve explain: --top must be >= 1, got {args.top}", file=sys.stderr)
        return 2
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        print(f"plantserve explain: {exc}", file=sys.stderr)
        return 2
    client = client_for(settings)
    try:
        batch = _read(args, client)
        rows = client.explain(args.model, batch.inputs, target_class=_target_class(args.target_class),
                              version=args.version, label=args.label)
        paths: list[Path] = []
        if rows and isinstance(rows[0], MapExplanation):
            if args.out is None:
                raise InvalidInput("an image model's explanations need --out DIR for the overlay PNGs")
            text, paths = _map_outputs(rows, batch, args.out)
        else:
            text = _feature_table(rows, batch.context, args.top)
    except (InvalidInput, FileNotFoundError, NotADirectoryError) as exc:
        print(f"plantserve explain: {exc}", file=sys.stderr)
        return 2
    except ClientError as exc:
        print(f"plantserve explain: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print(_json_rows(rows, batch.context, paths) if args.output == "json" else text)
    return 0
