"""How far an input is from the training data: estimators fitted with numpy at training time,
then evaluated as constants inside the serving graph.

- :class:`Gaussian`: one Mahalanobis distance, with a robust (minimum covariance determinant)
  or a plain covariance;
- :class:`ClassGaussians`: the distance to the nearest class centroid under one shared
  covariance (for a network's penultimate embedding).

A threshold is a high quantile of the distances of held-out validation rows; a row above it is
flagged as unlike anything the model was trained on.

Example::

    >>> rng = np.random.default_rng(0)
    >>> g = Gaussian.fit(rng.normal(size=(500, 2)), robust=False)
    >>> d = g.distances(np.array([[0.0, 0.0], [10.0, 0.0]]))
    >>> bool(d[0] < 1 < 9 < d[1])
    True
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["Gaussian", "ClassGaussians", "calibrate", "SHRINKAGE"]

#: Ridge added to a covariance, as a fraction of its mean variance, so dead or constant
#: directions (a ReLU unit that never fires) cannot make it singular.
SHRINKAGE = 1e-3


def _precision(cov: np.ndarray) -> np.ndarray:
    d = cov.shape[0]
    ridge = SHRINKAGE * max(float(np.trace(cov)) / d, 1e-12)
    return np.linalg.inv(cov + ridge * np.eye(d)).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class Gaussian:
    location: np.ndarray   # [d]
    precision: np.ndarray  # [d, d], inverse covariance
    robust: bool

    @classmethod
    def fit(cls, x: np.ndarray, robust: bool, seed: int = 0) -> "Gaussian":
        x = np.asarray(x, np.float64)
        if robust:
            from sklearn.covariance import MinCovDet

            mcd = MinCovDet(random_state=seed).fit(x)
            return cls(mcd.location_.astype(np.float32), _precision(mcd.covariance_), True)
        return cls(x.mean(0).astype(np.float32), _precision(np.cov(x.T).reshape(x.shape[1], x.shape[1])), False)

    def distances(self, x: np.ndarray) -> np.ndarray:
        d = np.asarray(x, np.float64) - self.location
        return np.sqrt(np.maximum(np.einsum("nd,de,ne->n", d, self.precision, d), 0.0))

    def graph_distances(self, tf: Any, x: Any) -> Any:
        d = x - tf.constant(self.location)[None, :]
        m = tf.reduce_sum(tf.matmul(d, tf.constant(self.precision)) * d, axis=1)
        return tf.sqrt(tf.maximum(m, 0.0))


@dataclasses.dataclass(frozen=True)
class ClassGaussians:
    centroids: np.ndarray  # [k, d]
    precision: np.ndarray  # [d, d], inverse of the covariance shared by every class

    @classmethod
    def fit(cls, x: np.ndarray, labels: np.ndarray) -> "ClassGaussians":
        x = np.asarray(x, np.float64)
        classes = np.unique(labels)
        centroids = np.stack([x[labels == k].mean(0) for k in classes])
        residual = x - centroids[np.searchsorted(classes, labels)]
        return cls(centroids.astype(np.float32), _precision(residual.T @ residual / len(x)))

    def distances(self, x: np.ndarray) -> np.ndarray:
        d = np.asarray(x, np.float64)[:, None, :] - self.centroids[None]
        return np.sqrt(np.maximum(np.einsum("nkd,de,nke->nk", d, self.precision, d), 0.0)).min(1)

    def graph_distances(self, tf: Any, x: Any) -> Any:
        # |x - c|²_P = xPx - 2 xPc + cPc, for every class at once
        p = tf.constant(self.precision)
        c = tf.constant(self.centroids)
        xp = tf.matmul(x, p)
        xx = tf.reduce_sum(xp * x, axis=1, keepdims=True)
        cc = tf.reduce_sum(tf.matmul(c, p) * c, axis=1)[None, :]
        m = xx - 2.0 * tf.matmul(xp, c, transpose_b=True) + cc
        return tf.sqrt(tf.maximum(tf.reduce_min(m, axis=1), 0.0))


def calibrate(validation_distances: np.ndarray, quantile: float) -> float:
    """The threshold: the ``quantile`` of the validation rows' distances (linear interpolation)."""
    values = np.asarray(validation_distances, np.float64)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("trust calibration needs finite distances for at least one validation row")
    return float(np.quantile(values, quantile))
