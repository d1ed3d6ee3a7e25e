"""Step 4's calls: real cars beside their true MPG, generated inspection images beside their true
class, over gRPC (``PredictClient``) and REST (``RestClient``), both on the ``stable`` label.

Example::

    >>> cars = pick_cars(3)
    >>> len(cars.names), sorted(cars.inputs)[:2], cars.inputs["weight"].dtype
    (3, ['acceleration', 'cylinders'], dtype('float32'))
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .show import table

__all__ = ["Cars", "pick_cars", "fuel_table", "defect_table", "version_table"]


@dataclasses.dataclass(frozen=True)
class Cars:
    names: list[str]
    true_mpg: np.ndarray
    inputs: dict[str, np.ndarray]  # feature name -> float32 [n]

    def row(self, i: int) -> dict[str, np.ndarray]:
        return {k: v[i:i + 1] for k, v in self.inputs.items()}


def pick_cars(n: int) -> Cars:
    """``n`` held-out Auto MPG cars (never trained on), spread over the test split, none with a missing value."""
    from training.data.fuel import FEATURES, load_fuel

    data = load_fuel()
    complete = [i for i in range(len(data.x_test)) if not np.isnan(data.x_test[i]).any()]
    chosen = [complete[int(j)] for j in np.linspace(0, len(complete) - 1, min(n, len(complete)))]
    x = data.x_test[chosen]
    return Cars([data.names_test[i] for i in chosen], data.y_test[chosen],
                {name: np.ascontiguousarray(x[:, k], np.float32) for k, name in enumerate(FEATURES)})


def fuel_table(grpc_client: Any, rest_client: Any, cars: Cars) -> tuple[str, dict[str, np.ndarray]]:
    """Predict every car over both transports; returns the table and the predictions."""
    by_grpc = np.ravel(grpc_client.predict("fuel", cars.inputs)["mpg"])
    by_rest = np.ravel(rest_client.predict("fuel", cars.inputs)["mpg"])
    rows = [[name, float(true), float(g), float(r), float(g - true)]
            for name, true, g, r in zip(cars.names, cars.true_mpg, by_grpc, by_rest)]
    text = table(["car", "true mpg", "gRPC mpg", "REST mpg", "error"], rows)
    return text, {"grpc": by_grpc, "rest": by_rest}


def _best(classes: np.ndarray, scores: np.ndarray) -> list[tuple[str, float]]:
    picks = np.argmax(scores, axis=1)
    return [(_text(classes[i][k]), float(scores[i][k])) for i, k in enumerate(picks)]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def defect_table(grpc_client: Any, rest_client: Any, n: int, seed: int = 2024) -> tuple[str, int]:
    """Classify ``n`` generated images (Classify API, tf.Examples) over both transports.
    Returns the table and how many the gRPC answer got right."""
    from training.data.defects import CLASSES, generate, render

    rng = np.random.default_rng(seed)
    if n <= len(CLASSES):
        labels = list(CLASSES[:n])
        images = np.stack([render(rng, label) for label in labels])[..., None]
    else:
        images, ids = generate(n // len(CLASSES) + 1, seed)
        images, labels = images[:n], [CLASSES[i] for i in ids[:n]]
    features = {"image": images.reshape(len(labels), -1).astype(np.float32)}
    by_grpc = _best(**grpc_client.classify("defect", features))
    by_rest = _best(**rest_client.classify("defect", features))
    rows = [[f"#{i + 1}", true, f"{g[0]} ({g[1]:.2f})", f"{r[0]} ({r[1]:.2f})", "yes" if g[0] == true else "NO"]
            for i, (true, g, r) in enumerate(zip(labels, by_grpc, by_rest))]
    correct = sum(1 for true, g in zip(labels, by_grpc) if g[0] == true)
    return table(["image", "true class", "gRPC class (score)", "REST class (score)", "right"], rows), correct


def version_table(grpc_client: Any, cars: Cars, old: int, new: int) -> tuple[str, bool]:
    """Each car on the ``stable`` label and on both versions explicitly: stable now equals the new one."""
    stable = np.ravel(grpc_client.predict("fuel", cars.inputs)["mpg"])
    by_old = np.ravel(grpc_client.predict("fuel", cars.inputs, version=old)["mpg"])
    by_new = np.ravel(grpc_client.predict("fuel", cars.inputs, version=new)["mpg"])
    rows = [[name, float(t), float(o), float(nw), float(s)]
            for name, t, o, nw, s in zip(cars.names, cars.true_mpg, by_old, by_new, stable)]
    text = table(["car", "true mpg", f"v{old} mpg", f"v{new} mpg", "stable mpg"], rows)
    return text, bool(np.allclose(stable, by_new, rtol=1e-5, atol=1e-5))
