"""training.explain.integrate: the path quadrature and the batched integrated gradients."""
from __future__ import annotations

import doctest

import numpy as np
import pytest

import training.explain.integrate as integrate


def test_doctests() -> None:
    assert doctest.testmod(integrate).failed == 0


@pytest.mark.parametrize("power", [1.0, 2.0, 3.0])
def test_nodes_lie_in_the_unit_interval_and_weights_integrate_polynomials(power: float) -> None:
    import tensorflow as tf

    nodes, weights = (v.numpy() for v in integrate.path_nodes(tf, 200, power))
    assert np.all((nodes > 0) & (nodes < 1)) and np.all(np.diff(nodes) > 0)
    for k in range(4):  # ∫₀¹ a^k da = 1/(k+1)
        assert abs(float(np.sum(weights * nodes ** k)) - 1 / (k + 1)) < 1e-3
    if power > 1:
        assert nodes[0] < 1 / 400  # denser near the baseline than the plain midpoint rule


def test_bad_arguments_are_refused() -> None:
    import tensorflow as tf

    with pytest.raises(ValueError, match="at least 1 step"):
        integrate.path_nodes(tf, 0, 1.0)
    with pytest.raises(ValueError, match="power"):
        integrate.path_nodes(tf, 8, 0.5)


def test_completeness_for_a_nonlinear_function_with_two_inputs_and_rows_kept_apart() -> None:
    import tensorflow as tf

    def f(a, b):  # one value per row; rows never mix
        return tf.reduce_sum(tf.sin(a), axis=1) * tf.reduce_sum(b ** 2, axis=[1, 2])

    x = [tf.constant([[0.3, 1.2], [2.0, -1.0]]), tf.constant(np.arange(8, dtype=np.float32).reshape(2, 2, 2) / 4)]
    base = [tf.zeros([1, 2]), tf.fill([1, 2, 2], 0.1)]
    (attr_a, attr_b), fx, fb = integrate.integrated_gradients(tf, f, x, base, 256, 1.0)
    np.testing.assert_allclose(fx.numpy(), f(*x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(fb.numpy(), f(*[tf.broadcast_to(b, v.shape) for b, v in zip(base, x)]).numpy(),
                               rtol=1e-6)
    total = attr_a.numpy().sum(1) + attr_b.numpy().sum((1, 2))
    np.testing.assert_allclose(total, (fx - fb).numpy(), rtol=1e-4)
    assert attr_a.shape == (2, 2) and attr_b.shape == (2, 2, 2)


def test_a_linear_function_is_attributed_exactly_with_one_step() -> None:
    import tensorflow as tf

    w = tf.constant([[2.0], [-3.0]])
    (attr,), fx, fb = integrate.integrated_gradients(tf, lambda x: tf.reshape(tf.matmul(x, w), [-1]),
                                                     [tf.constant([[1.0, 1.0]])], [tf.zeros([1, 2])], 1, 1.0)
    np.testing.assert_allclose(attr.numpy(), [[2.0, -3.0]])
    assert float(fx[0]) == -1.0 and float(fb[0]) == 0.0
