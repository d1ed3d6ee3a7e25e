"""``tf.Example`` encoding for classify and regress, for gRPC (messages) and REST (JSON).

Features are given column-wise, one array per feature with the batch on axis 0, or row-wise
as a list of dicts. Floats become ``float_list``, integers ``int64_list``, bytes and str
``bytes_list``. Each row is flattened, as ``tf.io.parse_example`` expects.

>>> import numpy as np
>>> rows = feature_rows({"image": np.zeros((2, 784), np.float32)})
>>> len(rows), rows[0]["image"].shape
(2, (784,))
>>> ex = to_example(rows[0])
>>> len(ex.features.feature["image"].float_list.value)
784
"""
from __future__ import annotations

import base64
from typing import Any, Mapping, Sequence

import numpy as np

from serving.client.errors import InvalidInput
from serving.protocol import messages

__all__ = ["feature_rows", "to_example", "to_input", "to_json_example"]

Features = Mapping[str, Any] | Sequence[Mapping[str, Any]]


def feature_rows(features: Features) -> list[dict[str, np.ndarray]]:
    """Normalise column-wise or row-wise features into rows of flat numpy arrays."""
    if isinstance(features, Mapping):
        columns = {k: np.asarray(v) for k, v in features.items()}
        if not columns:
            raise InvalidInput("no features given; pass e.g. {'image': array of shape (N, 784)}")
        sizes = {k: (v.shape[0] if v.ndim else 1) for k, v in columns.items()}
        if len(set(sizes.values())) != 1:
            raise InvalidInput(f"features disagree on the batch size (axis 0): {sizes}")
        n = next(iter(sizes.values()))
        return [{k: (v.reshape(n, -1)[i] if v.ndim else v.reshape(1)) for k, v in columns.items()} for i in range(n)]
    rows = [{k: np.asarray(v).reshape(-1) for k, v in row.items()} for row in features]
    if not rows:
        raise InvalidInput("no examples given")
    return rows


def _kind(values: np.ndarray) -> str:
    if values.dtype.kind == "f":
        return "float"
    if values.dtype.kind in "iub":
        return "int64"
    if values.dtype.kind in "OSU":
        return "bytes"
    raise InvalidInput(f"feature values of dtype {values.dtype} cannot go in a tf.Example")


def to_example(row: Mapping[str, np.ndarray]) -> Any:
    """One row of features as a ``tensorflow.Example`` message."""
    example = messages.Example()
    fmap = example.features.feature
    for name, values in row.items():
        kind = _kind(values)
        if kind == "float":
            fmap[name].float_list.value.extend(values.astype(np.float32, copy=False).tolist())
        elif kind == "int64":
            fmap[name].int64_list.value.extend(values.astype(np.int64, copy=False).tolist())
        else:
            fmap[name].bytes_list.value.extend(v.encode() if isinstance(v, str) else bytes(v) for v in values)
    return example


def to_input(features: Features, proto: Any) -> Any:
    """Fill ``proto.input.example_list`` of a Classification/RegressionRequest."""
    examples = proto.input.example_list.examples
    for row in feature_rows(features):
        examples.append(to_example(row))
    return proto


def to_json_example(row: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """One row in TF Serving's REST form: lists, with bytes as ``{"b64": ...}``."""
    out: dict[str, Any] = {}
    for name, values in row.items():
        if _kind(values) == "bytes":
            out[name] = [{"b64": base64.b64encode(v.encode() if isinstance(v, str) else bytes(v)).decode()}
                         for v in values]
        else:
            out[name] = values.tolist()
    return out
