"""Procedural surface-defect images (28×28×1, values in [0, 1]) for the inspection-station model.

Each image is a metal-like surface: a base grey level, a lighting ramp, low-frequency texture
and sensor noise. On top, one defect class is drawn at a random position, size, contrast and
polarity (darker or brighter than the surface):

- ``clean``: the surface alone;
- ``scratch``: a thin straight mark;
- ``pit``: a small round spot;
- ``crack``: a thin jagged path, sometimes branched;
- ``inclusion``: a larger irregular elliptical patch.

Everything derives from one ``numpy`` Generator, so a seed gives the same data set every time.
"""
from __future__ import annotations

import numpy as np

__all__ = ["CLASSES", "SIZE", "generate", "render"]

CLASSES = ("clean", "scratch", "pit", "crack", "inclusion")
SIZE = 28
_YY, _XX = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)


def _surface(rng: np.random.Generator) -> np.ndarray:
    base = rng.uniform(0.35, 0.65)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (_XX - SIZE / 2) + np.sin(angle) * (_YY - SIZE / 2)) / SIZE
    coarse = rng.normal(0, 1, (7, 7)).astype(np.float32)
    texture = np.kron(coarse, np.ones((4, 4), np.float32))
    return base + rng.uniform(0, 0.25) * ramp + rng.uniform(0, 0.04) * texture


def _segment_distance(p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    d = p1 - p0
    t = ((_XX - p0[0]) * d[0] + (_YY - p0[1]) * d[1]) / max(float(d @ d), 1e-6)
    t = np.clip(t, 0, 1)
    return np.hypot(_XX - (p0[0] + t * d[0]), _YY - (p0[1] + t * d[1]))


def _polyline_distance(points: list[np.ndarray]) -> np.ndarray:
    return np.min([_segment_distance(a, b) for a, b in zip(points, points[1:])], axis=0)


def _scratch(rng: np.random.Generator, centre: np.ndarray) -> np.ndarray:
    angle, half = rng.uniform(0, np.pi), rng.uniform(6, 13)
    step = half * np.array([np.cos(angle), np.sin(angle)])
    width = rng.uniform(0.6, 1.2)
    return np.exp(-((_segment_distance(centre - step, centre + step) / width) ** 2))


def _pit(rng: np.random.Generator, centre: np.ndarray) -> np.ndarray:
    sigma = rng.uniform(1.0, 1.7)
    return np.exp(-(((_XX - centre[0]) ** 2 + (_YY - centre[1]) ** 2) / (2 * sigma**2)))


def _walk(rng: np.random.Generator, start: np.ndarray, steps: int, angle: float) -> list[np.ndarray]:
    points = [start]
    for _ in range(steps):
        angle += rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.1)  # every step turns: cracks zigzag
        points.append(points[-1] + rng.uniform(1.5, 2.5) * np.array([np.cos(angle), np.sin(angle)]))
    return points


def _crack(rng: np.random.Generator, centre: np.ndarray) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    main = _walk(rng, centre, int(rng.integers(5, 9)), angle) + []
    other = _walk(rng, centre, int(rng.integers(5, 9)), angle + np.pi)
    dist = np.minimum(_polyline_distance(main), _polyline_distance(other))
    if rng.random() < 0.5:
        branch_from = main[len(main) // 2]
        dist = np.minimum(dist, _polyline_distance(_walk(rng, branch_from, int(rng.integers(2, 5)), angle + 1.2)))
    width = rng.uniform(0.5, 0.9)
    return np.exp(-((dist / width) ** 2))


def _inclusion(rng: np.random.Generator, centre: np.ndarray) -> np.ndarray:
    a, b = rng.uniform(3.5, 6.0), rng.uniform(2.5, 4.0)
    theta = rng.uniform(0, np.pi)
    dx, dy = _XX - centre[0], _YY - centre[1]
    u = (dx * np.cos(theta) + dy * np.sin(theta)) / a
    v = (-dx * np.sin(theta) + dy * np.cos(theta)) / b
    radius = np.sqrt(u**2 + v**2) * (1 + 0.15 * np.sin(3 * np.arctan2(v, u) + rng.uniform(0, 2 * np.pi)))
    mask = 1 / (1 + np.exp((radius - 1) * 8))
    return mask * rng.uniform(0.7, 1.0, (SIZE, SIZE)).astype(np.float32)


_DRAW = {"scratch": _scratch, "pit": _pit, "crack": _crack, "inclusion": _inclusion}


def render(rng: np.random.Generator, label: str) -> np.ndarray:
    """One 28×28 float32 image of class ``label``."""
    image = _surface(rng)
    if label != "clean":
        centre = rng.uniform(7, SIZE - 7, size=2)
        polarity = -1.0 if rng.random() < 0.75 else 1.0
        image = image + polarity * rng.uniform(0.28, 0.55) * _DRAW[label](rng, centre)
    image = image + rng.normal(0, rng.uniform(0.01, 0.04), image.shape)
    return np.clip(image, 0, 1).astype(np.float32)


def generate(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_per_class`` images of each class, shuffled: (images [n,28,28,1] float32, labels [n] int64)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(CLASSES)), n_per_class)
    rng.shuffle(labels)
    images = np.stack([render(rng, CLASSES[i]) for i in labels])[..., None]
    return images, labels.astype(np.int64)
