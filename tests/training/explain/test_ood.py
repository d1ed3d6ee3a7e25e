"""training.explain.ood: the out-of-distribution sets are what their names say."""
from __future__ import annotations

import doctest

import numpy as np

import training.explain.ood as ood


def test_doctests() -> None:
    assert doctest.testmod(ood).failed == 0


def test_fuel_sets_change_one_sensor_or_make_an_impossible_car() -> None:
    x = np.array([[4, 97, np.nan, 2188, 15.8, 80, 2], [8, 302, 140, 3449, 10.5, 70, 1]], np.float32)
    sets = ood.fuel_ood(x)
    assert len(sets["stuck_at_zero"]) == 13  # horsepower is missing in row 0: left out, not zeroed
    for name in ("stuck_at_zero", "times_ten"):
        for row in sets[name]:  # each row is one of x with exactly one sensor changed
            changed = [int(np.sum((row != source) & ~(np.isnan(row) & np.isnan(source)))) for source in x]
            assert min(changed) == 1
    assert np.all(np.sum(sets["stuck_at_zero"] == 0, axis=1) == 1)
    assert sets["times_ten"][0, 0] == 40 and sets["times_ten"][1, 0] == 80
    assert sets["impossible"][0, 0] == 8 and sets["impossible"][0, 3] == 1650


def test_defect_sets_and_rotation() -> None:
    rng = np.random.default_rng(0)
    images = rng.uniform(0.3, 0.7, (5, 28, 28, 1)).astype(np.float32)
    sets = ood.defect_ood(images, n=5)
    assert {k: v.shape for k, v in sets.items()} == {k: (5, 28, 28, 1) for k in ("blank", "saturated", "rotated",
                                                                               "noise")}
    assert np.all(np.ptp(sets["blank"], axis=(1, 2, 3)) == 0)
    assert (sets["saturated"] == 1).mean() > 0.9
    assert sets["rotated"][0, 0, 0, 0] == 0 and sets["rotated"][0, 14, 14, 0] == images[0, 14, 14, 0]
    square = np.zeros((28, 28, 1), np.float32)
    square[2, 13] = 1
    np.testing.assert_array_equal(np.argwhere(ood.rotate(square, 90)[..., 0]), [[13, 25]])
