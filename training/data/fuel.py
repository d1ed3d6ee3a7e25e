"""Auto MPG, from the copy the ``vega-datasets`` package ships offline (``cars.json``).

Missing values are handled explicitly: rows without the target (``Miles_per_Gallon``) cannot
be learnt from and are dropped; missing features (``Horsepower`` in 6 rows) are kept as NaN
and imputed inside the serving graph with the training medians, so callers may send NaN too.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path

import numpy as np

__all__ = ["FEATURES", "ORIGINS", "FuelData", "load_fuel"]

log = logging.getLogger(__name__)

#: Raw named features callers send, in the column order of the feature matrix.
FEATURES = ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin")
#: The UCI coding of ``origin``: 1 USA, 2 Europe, 3 Japan.
ORIGINS = {"USA": 1.0, "Europe": 2.0, "Japan": 3.0}
_JSON_COLUMNS = {
    "cylinders": "Cylinders", "displacement": "Displacement", "horsepower": "Horsepower",
    "weight": "Weight_in_lbs", "acceleration": "Acceleration", "model_year": "Year", "origin": "Origin",
}
TEST_FRACTION = 0.2  # held-out share
#: The held-out rows never depend on --seed, so every version is gated on the same rows.
#: Test MAE moves by about ±0.2 mpg between random 80/20 splits of this small data set.
TEST_SPLIT_SEED = 42
VAL_FRACTION = 0.2   # share of the remaining rows used for early stopping


@dataclasses.dataclass(frozen=True)
class FuelData:
    x_train: np.ndarray  # [n, 7] float32, raw features (NaN where missing)
    y_train: np.ndarray  # [n] float32, mpg
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    names_test: list[str]
    fingerprint: str
    dropped_rows: int


def _row(record: dict) -> tuple[list[float], float | None, str]:
    def num(value) -> float:
        return float("nan") if value is None or value == "" else float(value)

    values = []
    for feature in FEATURES:
        raw = record.get(feature, record.get(_JSON_COLUMNS[feature]))
        if feature == "model_year" and isinstance(raw, str) and "-" in raw:
            raw = int(raw[:4]) - 1900  # "1970-01-01" -> 70, the UCI form
        if feature == "origin" and isinstance(raw, str) and raw in ORIGINS:
            raw = ORIGINS[raw]
        values.append(num(raw))
    target = record.get("mpg", record.get("Miles_per_Gallon"))
    return values, None if target in (None, "") else float(target), str(record.get("Name", record.get("name", "")))


def _read_records(path: Path) -> list[dict]:
    text = path.read_text()
    if path.suffix.lower() == ".json":
        return json.loads(text)
    import csv

    return list(csv.DictReader(text.splitlines()))


def cars_json_path() -> Path:
    import vega_datasets

    return Path(vega_datasets.__file__).parent / "_data" / "cars.json"


def load_fuel(seed: int = 0, extra: Path | None = None) -> FuelData:
    """The Auto MPG split (train/validation deterministic in ``seed``, test fixed), plus ``extra`` rows appended to training."""
    rows, targets, names = [], [], []
    dropped = 0
    for record in json.loads(cars_json_path().read_text()):
        values, target, name = _row(record)
        if target is None:
            dropped += 1
            continue
        rows.append(values), targets.append(target), names.append(name)
    log.info("Auto MPG: %d rows, %d dropped for a missing target", len(rows), dropped)
    x, y = np.asarray(rows, np.float32), np.asarray(targets, np.float32)
    order = np.random.default_rng(TEST_SPLIT_SEED).permutation(len(x))
    n_test = int(round(len(x) * TEST_FRACTION))
    test, rest = order[:n_test], np.random.default_rng(seed).permutation(order[n_test:])
    n_val = int(round(len(rest) * VAL_FRACTION))
    val, train = rest[:n_val], rest[n_val:]
    x_train, y_train = x[train], y[train]
    if extra is not None:
        ex_rows, ex_targets = [], []
        for record in _read_records(extra):
            values, target, _ = _row(record)
            if target is None:
                dropped += 1
                continue
            ex_rows.append(values), ex_targets.append(target)
        if not ex_rows:
            raise ValueError(f"{extra}: no usable rows (each needs the 7 features and mpg)")
        x_train = np.concatenate([x_train, np.asarray(ex_rows, np.float32)])
        y_train = np.concatenate([y_train, np.asarray(ex_targets, np.float32)])
    digest = hashlib.sha256()
    for part in (x_train, y_train, x[test], y[test]):
        digest.update(np.ascontiguousarray(part).tobytes())
    return FuelData(x_train, y_train, x[val], y[val], x[test], y[test], [names[i] for i in test],
                    f"sha256:{digest.hexdigest()}", dropped)
