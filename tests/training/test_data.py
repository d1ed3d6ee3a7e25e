"""training.data: Auto MPG loading, the defect generator and plant image folders."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.data.defects import CLASSES, generate
from training.data.fuel import FEATURES, load_fuel
from training.data.imagedir import DataDirError, load_image_dir


def test_fuel_split_is_deterministic_and_missing_values_are_explicit() -> None:
    a, b = load_fuel(seed=0), load_fuel(seed=0)
    assert np.array_equal(a.x_train, b.x_train, equal_nan=True) and a.fingerprint == b.fingerprint
    assert a.dropped_rows == 8  # rows without Miles_per_Gallon in cars.json
    total = len(a.x_train) + len(a.x_val) + len(a.x_test)
    assert total == 398
    # horsepower is missing in 6 kept rows: kept as NaN for in-graph imputation
    hp = FEATURES.index("horsepower")
    all_x = np.concatenate([a.x_train, a.x_val, a.x_test])
    assert int(np.isnan(all_x[:, hp]).sum()) == 6
    assert not np.isnan(np.delete(all_x, hp, axis=1)).any()
    assert set(np.unique(all_x[:, FEATURES.index("origin")])) == {1.0, 2.0, 3.0}
    assert all_x[:, FEATURES.index("model_year")].min() == 70


def test_fuel_test_split_does_not_depend_on_seed() -> None:
    a, b = load_fuel(seed=0), load_fuel(seed=7)
    assert np.array_equal(a.x_test, b.x_test, equal_nan=True)
    assert not np.array_equal(a.x_train, b.x_train, equal_nan=True)


def test_fuel_extra_rows_are_appended(tmp_path: Path) -> None:
    extra = tmp_path / "new.csv"
    extra.write_text("cylinders,displacement,horsepower,weight,acceleration,model_year,origin,mpg\n"
                     "4,97,88,2130,14.5,82,3,37.0\n4,97,,2130,14.5,82,3,\n")
    base, more = load_fuel(0), load_fuel(0, extra)
    assert len(more.x_train) == len(base.x_train) + 1  # the row without mpg is dropped
    assert more.dropped_rows == base.dropped_rows + 1
    assert more.fingerprint != base.fingerprint


def test_generator_is_deterministic_balanced_and_in_range() -> None:
    x1, y1 = generate(20, seed=3)
    x2, y2 = generate(20, seed=3)
    x3, _ = generate(20, seed=4)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2) and not np.array_equal(x1, x3)
    assert x1.shape == (100, 28, 28, 1) and x1.dtype == np.float32
    assert np.bincount(y1).tolist() == [20] * len(CLASSES)
    assert x1.min() >= 0 and x1.max() <= 1
    # defects change the surface: images with a defect deviate more from their own median
    spread = [np.abs(x1[y1 == c] - np.median(x1[y1 == c], axis=(1, 2), keepdims=True)).max(axis=(1, 2, 3)).mean()
              for c in range(len(CLASSES))]
    assert all(spread[0] < s for s in spread[1:])


def _write_images(root: Path, counts: dict[str, int]) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(root / name / f"{i}.png")


def test_image_dir_loads_classes_from_folders(tmp_path: Path) -> None:
    _write_images(tmp_path, {"ok": 6, "scratch": 5})
    x, y, classes = load_image_dir(tmp_path)
    assert classes == ("ok", "scratch") and x.shape == (11, 28, 28, 1)
    assert np.bincount(y).tolist() == [6, 5] and 0 <= x.min() and x.max() <= 1


@pytest.mark.parametrize("setup, message", [
    (lambda root: None, "at least 2"),
    (lambda root: _write_images(root, {"ok": 6, "bad": 2}), "needs at least 5"),
    (lambda root: (_write_images(root, {"ok": 6, "bad": 5}), (root / "bad" / "0.png").write_bytes(b"junk")),
     "not a readable image"),
])
def test_image_dir_errors_are_actionable(tmp_path: Path, setup, message) -> None:
    setup(tmp_path)
    with pytest.raises(DataDirError, match=message):
        load_image_dir(tmp_path)
