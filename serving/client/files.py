"""Reading ``plantserve predict`` input files into named arrays, guided by the model's signature.

- JSON: columnar ``{"inputs": {name: values}}`` or ``{name: values}``, or rows
  ``{"instances": [{name: value}, ...]}`` or a bare list of row objects.
- CSV: a header row; columns named like signature inputs become inputs, the rest are carried
  through as context columns (e.g. the true ``mpg`` beside the prediction).
- Images: greyscale or RGB to match the input's channels, resized to its height and width,
  scaled to [0, 1] (the same convention as ``plantserve train defect --data-dir``).

>>> from serving.client.results import Signature, TensorSpec
>>> sig = Signature("serving_default", "", {"x": TensorSpec("DT_FLOAT", (-1,))}, {})
>>> batch = from_json_value({"instances": [{"x": 1}, {"x": 2}]}, sig)
>>> batch.inputs["x"].tolist(), batch.context
([1.0, 2.0], {})
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from serving.client.errors import InvalidInput
from serving.client.results import Signature

__all__ = ["Batch", "from_json_value", "read_json", "read_csv", "read_images"]


@dataclasses.dataclass
class Batch:
    """Inputs for one request, plus per-row context columns to print beside the outputs."""

    inputs: dict[str, np.ndarray]
    context: dict[str, list[str]]


def _cast(name: str, values: Any, sig: Signature) -> np.ndarray:
    spec = sig.inputs.get(name)
    if spec is None:
        raise InvalidInput(f"signature {sig.name!r} has no input {name!r}; it takes {sorted(sig.inputs)}")
    try:
        return np.asarray(values, dtype=spec.numpy_dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"input {name!r}: cannot convert to {spec.dtype}: {exc}") from exc


def from_json_value(value: Any, sig: Signature) -> Batch:
    if isinstance(value, dict) and "instances" in value:
        value = value["instances"]
    elif isinstance(value, dict) and "inputs" in value:
        value = value["inputs"]
    if isinstance(value, list):
        if not value or not all(isinstance(row, dict) for row in value):
            raise InvalidInput("JSON rows must be a non-empty list of objects keyed by input name")
        names = [n for n in value[0] if n in sig.inputs]
        context = {n: [str(row.get(n, "")) for row in value] for n in value[0] if n not in sig.inputs}
        return Batch({n: _cast(n, [row[n] for row in value], sig) for n in names}, context)
    if isinstance(value, dict):
        return Batch({n: _cast(n, v, sig) for n, v in value.items()}, {})
    raise InvalidInput("JSON input must be an object (columns) or a list of row objects")


def read_json(path: Path, sig: Signature) -> Batch:
    try:
        return from_json_value(json.loads(Path(path).read_text()), sig)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON ({exc})") from exc


def read_csv(path: Path, sig: Signature) -> Batch:
    with open(path, newline="") as fh:
        reader = csv.DictReader(io.StringIO(fh.read()))
    rows = list(reader)
    if not rows or not reader.fieldnames:
        raise InvalidInput(f"{path}: no header or no rows")
    missing = sorted(set(sig.inputs) - set(reader.fieldnames))
    if missing:
        raise InvalidInput(f"{path}: missing columns {missing} for signature {sig.name!r}")
    inputs = {n: _cast(n, [r[n] if sig.inputs[n].dtype == "DT_STRING" else _number(r[n]) for r in rows], sig)
              for n in sig.inputs}
    context = {n: [r[n] for r in rows] for n in reader.fieldnames if n not in sig.inputs}
    return Batch(inputs, context)


def _number(cell: str) -> float:
    """Empty cells (missing values) become NaN; the fuel model imputes them in the graph."""
    try:
        return float(cell) if cell.strip() else float("nan")
    except ValueError as exc:
        raise InvalidInput(f"CSV cell {cell!r} is not a number") from exc


def read_images(paths: list[Path], sig: Signature) -> Batch:
    images = [(n, s) for n, s in sig.inputs.items() if s.shape is not None and len(s.shape) == 4]
    if len(images) != 1:
        raise InvalidInput(f"signature {sig.name!r} has no single image input [batch, height, width, channels]")
    name, spec = images[0]
    _, height, width, channels = spec.shape  # type: ignore[misc]
    try:
        from PIL import Image
    except ImportError as exc:
        raise InvalidInput("--image needs Pillow: pip install pillow") from exc
    batch = []
    for path in paths:
        try:
            with Image.open(path) as img:
                pixels = img.convert("L" if channels == 1 else "RGB").resize((width, height), Image.BILINEAR)
        except OSError as exc:
            raise InvalidInput(f"{path}: not a readable image ({exc})") from exc
        array = np.asarray(pixels, np.float32) / 255.0
        batch.append(array.reshape(height, width, channels))
    return Batch({name: np.stack(batch).astype(spec.numpy_dtype)}, {"image": [Path(p).name for p in paths]})
