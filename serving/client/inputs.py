"""Normalising what callers pass to ``predict`` into named numpy arrays, shared by both clients.

>>> import numpy as np
>>> named_inputs({"x": [1.0, 2.0]}, lambda: "unused")["x"].dtype
dtype('float32')
>>> list(named_inputs(np.zeros(3, np.float32), lambda: "image"))
['image']
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from serving.client.errors import InvalidInput
from serving.client.results import Signature

__all__ = ["named_inputs", "sole_input_name", "Inputs"]

Inputs = Mapping[str, Any] | np.ndarray


def _as_array(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    array = np.asarray(value)
    # Python floats are float64; every model here (and Keras by default) takes float32.
    return array.astype(np.float32) if array.dtype == np.float64 else array


def named_inputs(inputs: Inputs, sole_name: Callable[[], str]) -> dict[str, np.ndarray]:
    """A dict of arrays; a bare array is named after the signature's only input (looked up lazily)."""
    if isinstance(inputs, Mapping):
        if not inputs:
            raise InvalidInput("no inputs given")
        return {str(k): _as_array(v) for k, v in inputs.items()}
    return {sole_name(): _as_array(inputs)}


def sole_input_name(signature: Signature) -> str:
    if len(signature.inputs) != 1:
        raise InvalidInput(f"signature {signature.name!r} takes {len(signature.inputs)} inputs "
                           f"({', '.join(sorted(signature.inputs))}); pass a dict of arrays")
    return next(iter(signature.inputs))
