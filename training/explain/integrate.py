"""Integrated gradients inside a ``tf.function``: the whole straight-line path in one batch.

For an input ``x``, a baseline ``b`` and a scalar output ``f``, the attribution of component ``i``
is ``(x_i - b_i) * ∫₀¹ ∂f/∂x_i(b + a(x - b)) da``. The integral is a midpoint sum over
``steps`` nodes after the substitution ``a = t**power``: ``power`` 1 is the plain midpoint
Riemann sum; 2 puts more nodes near the baseline, where a ReLU network's units switch most often
when the baseline is a featureless input. The attributions then add up to ``f(x) - f(b)`` up to
the quadrature error, the *completeness error*, which callers report beside them.

Example (runs with TensorFlow)::

    >>> import tensorflow as tf
    >>> nodes, weights = path_nodes(tf, 4, 1.0)
    >>> [round(float(v), 3) for v in nodes], float(tf.reduce_sum(weights))
    ([0.125, 0.375, 0.625, 0.875], 1.0)
    >>> f = lambda x: tf.reduce_sum(x ** 2, axis=1)
    >>> attr, fx, fb = integrated_gradients(tf, f, [tf.constant([[1.0, 2.0]])], [tf.zeros([1, 2])], 64, 1.0)
    >>> [round(float(v), 3) for v in attr[0][0]], float(fx[0]), float(fb[0])
    ([1.0, 4.0], 5.0, 0.0)
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

__all__ = ["path_nodes", "integrated_gradients"]


def path_nodes(tf: Any, steps: int, power: float) -> tuple[Any, Any]:
    """(nodes ``a`` in (0, 1), quadrature weights summing to 1), both float32 ``[steps]``."""
    if steps < 1:
        raise ValueError(f"integrated gradients needs at least 1 step, got {steps}")
    if power < 1:
        raise ValueError(f"the path node power must be >= 1, got {power}")
    t = (tf.range(steps, dtype=tf.float32) + 0.5) / steps
    return t ** power, power * t ** (power - 1) / steps


def integrated_gradients(tf: Any, f: Callable[..., Any], inputs: Sequence[Any], baselines: Sequence[Any],
                         steps: int, power: float) -> tuple[list[Any], Any, Any]:
    """Attributions for each tensor of ``inputs`` (same shapes), plus ``f(inputs)`` and ``f(baselines)``.

    ``f`` takes tensors shaped like ``inputs`` with any batch size and returns one value per row;
    rows must not interact (no batch statistics). Every path point, the inputs and the baselines
    go through ``f`` in one batch of ``n * (steps + 2)`` rows, and one tape gives every gradient.
    """
    nodes, weights = path_nodes(tf, steps, power)
    n = tf.shape(inputs[0])[0]
    batch, deltas = [], []
    for x, b in zip(inputs, baselines):
        b = tf.broadcast_to(b, tf.shape(x))
        delta = x - b
        rank = len(x.shape)
        a = tf.reshape(nodes, [1, steps] + [1] * (rank - 1))
        path = tf.expand_dims(b, 1) + a * tf.expand_dims(delta, 1)  # [n, steps, ...]
        path = tf.reshape(path, tf.concat([[n * steps], tf.shape(x)[1:]], 0))
        batch.append(tf.concat([path, x, b], 0))
        deltas.append(delta)
    with tf.GradientTape() as tape:
        for t in batch:
            tape.watch(t)
        out = f(*batch)
    grads = tape.gradient(out, batch)
    attributions = []
    for g, x, delta in zip(grads, inputs, deltas):
        rank = len(x.shape)
        g = tf.reshape(g[:n * steps], tf.concat([[n, steps], tf.shape(x)[1:]], 0))
        w = tf.reshape(weights, [1, steps] + [1] * (rank - 1))
        attributions.append(delta * tf.reduce_sum(g * w, axis=1))
    return attributions, out[n * steps:n * (steps + 1)], out[n * (steps + 1):]
