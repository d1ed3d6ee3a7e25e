"""Deliberately out-of-distribution inputs, built from held-out rows, that input trust must flag.

fuel (raw feature rows, column order of ``training.data.fuel.FEATURES``):
- ``stuck_at_zero``: one sensor reads 0 (each feature in turn, on every row where it is present);
- ``times_ten``: one sensor reads ten times the truth (a unit or scaling fault);
- ``impossible``: two features that cannot go together (an 8-cylinder car of 1,650 lb, ...).

defect (28×28×1 images in [0, 1]):
- ``blank``: a constant frame (light off, lens cap, grey card);
- ``saturated``: over-exposed parts, most pixels clipped white;
- ``rotated``: the camera turned 30° on its mount, black corners;
- ``noise``: uniform random pixels (a broken sensor).

A class held out of training is the other defect case; it needs its own training run, so the
tests build it (``tests/training/test_trust.py``).

Example::

    >>> x = np.array([[4, 97, 78, 2188, 15.8, 80, 2]], np.float32)
    >>> sets = fuel_ood(x)
    >>> sets["stuck_at_zero"].shape, float(sets["times_ten"][3, 3])
    ((7, 7), 21880.0)
"""
from __future__ import annotations

import numpy as np

__all__ = ["fuel_ood", "defect_ood", "rotate", "IMPOSSIBLE_CARS"]

#: (feature index, value) pairs no real car of the data set combines.
IMPOSSIBLE_CARS: tuple[tuple[tuple[int, float], ...], ...] = (
    ((0, 8.0), (3, 1650.0)),    # 8 cylinders, 1,650 lb
    ((0, 4.0), (1, 455.0)),     # 4 cylinders, 455 cu in
    ((2, 230.0), (3, 1800.0)),  # 230 hp, 1,800 lb
    ((0, 3.0), (2, 220.0)),     # 3 cylinders, 220 hp
    ((2, 46.0), (4, 8.0)),      # 46 hp, 0-60 in 8 s
)


def fuel_ood(x: np.ndarray) -> dict[str, np.ndarray]:
    x = np.asarray(x, np.float32)
    sets: dict[str, list[np.ndarray]] = {"stuck_at_zero": [], "times_ten": []}
    for feature in range(x.shape[1]):
        present = x[~np.isnan(x[:, feature])]
        for name, factor in (("stuck_at_zero", 0.0), ("times_ten", 10.0)):
            rows = present.copy()
            rows[:, feature] *= factor
            sets[name].append(rows)
    impossible = x.copy()
    for i, row in enumerate(impossible):
        for feature, value in IMPOSSIBLE_CARS[i % len(IMPOSSIBLE_CARS)]:
            row[feature] = value
    return {**{k: np.concatenate(v) for k, v in sets.items()}, "impossible": impossible}


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """``image`` [h, w, c] turned about its centre (nearest pixel), black where nothing maps."""
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    a = np.deg2rad(degrees)
    sy = np.rint(cy + (yy - cy) * np.cos(a) - (xx - cx) * np.sin(a)).astype(int)
    sx = np.rint(cx + (yy - cy) * np.sin(a) + (xx - cx) * np.cos(a)).astype(int)
    inside = (sy >= 0) & (sy < h) & (sx >= 0) & (sx < w)
    out = np.zeros_like(image)
    out[inside] = image[sy[inside], sx[inside]]
    return out


def defect_ood(x: np.ndarray, n: int = 200, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.asarray(x[:n], np.float32)
    shape = (len(x), *x.shape[1:])
    return {
        "blank": np.broadcast_to(rng.uniform(0, 1, (len(x), 1, 1, 1)), shape).astype(np.float32),
        "saturated": np.clip(x * 3.0, 0, 1),
        "rotated": np.stack([rotate(image, 30.0) for image in x]),
        "noise": rng.uniform(0, 1, shape).astype(np.float32),
    }
