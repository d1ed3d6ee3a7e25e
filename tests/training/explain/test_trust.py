"""training.explain.trust: the estimators agree in numpy and in the graph; calibration."""
from __future__ import annotations

import doctest

import numpy as np
import pytest

import training.explain.trust as trust


def test_doctests() -> None:
    assert doctest.testmod(trust).failed == 0


@pytest.mark.parametrize("robust", [False, True])
def test_gaussian_distances_in_numpy_and_graph_agree(robust: bool) -> None:
    import tensorflow as tf

    rng = np.random.default_rng(1)
    x = rng.multivariate_normal([1, -2, 0], [[1, 0.8, 0], [0.8, 1, 0], [0, 0, 4]], size=400)
    g = trust.Gaussian.fit(x, robust=robust)
    probe = np.array([[1, -2, 0], [2, -1, 0], [2, -3, 0]], np.float32)  # on, along, against the correlation
    d = g.distances(probe)
    np.testing.assert_allclose(g.graph_distances(tf, tf.constant(probe)).numpy(), d, rtol=1e-4)
    assert d[0] < 0.3 and d[1] < d[2]  # a move along the correlation is less unusual than one against it


def test_robust_fit_ignores_gross_outliers() -> None:
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(size=(300, 2)), np.full((30, 2), 50.0)])
    assert np.abs(trust.Gaussian.fit(x, robust=True).location).max() < 0.3
    assert np.abs(trust.Gaussian.fit(x, robust=False).location).max() > 3


def test_class_gaussians_use_the_nearest_centroid_and_survive_dead_units() -> None:
    import tensorflow as tf

    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1], 200)
    x = rng.normal(size=(400, 3)) + np.where(labels[:, None] == 1, 10.0, 0.0)
    x[:, 2] = 0.0  # a unit that never fires: singular covariance without shrinkage
    g = trust.ClassGaussians.fit(x, labels)
    probe = np.array([[0, 0, 0], [10, 10, 0], [5, 5, 0]], np.float32)
    d = g.distances(probe)
    np.testing.assert_allclose(g.graph_distances(tf, tf.constant(probe)).numpy(), d, rtol=1e-3, atol=1e-3)
    assert d[0] < 1 and d[1] < 1 and d[2] > 3


def test_calibration_is_the_quantile_and_refuses_nothing_to_calibrate() -> None:
    assert trust.calibrate(np.arange(1001, dtype=float), 0.995) == pytest.approx(995.0)
    with pytest.raises(ValueError, match="at least one"):
        trust.calibrate(np.array([]), 0.995)
    with pytest.raises(ValueError, match="finite"):
        trust.calibrate(np.array([1.0, np.nan]), 0.995)
