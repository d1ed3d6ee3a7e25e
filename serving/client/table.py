"""Plain-text tables for ``plantserve predict``: one row per example, context columns first.

>>> import numpy as np
>>> print(render({"mpg": np.array([27.91, 30.0], np.float32)}, {"car": ["a", "b"]}))
#  car  mpg
0  a    27.91
1  b    30
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from serving.table import cell, table

__all__ = ["render", "format_cell"]


def format_cell(value: Any) -> str:
    return cell(value)


def render(outputs: Mapping[str, np.ndarray], context: Mapping[str, Sequence[str]] | None = None) -> str:
    """One row per example: its index, the context columns, then each output's value for that example."""
    context = context or {}
    rows = max([len(v) for v in context.values()] + [o.shape[0] if o.ndim else 1 for o in outputs.values()] + [0])
    body = []
    for i in range(rows):
        row: list[Any] = [str(i), *(str(col[i]) if i < len(col) else "" for col in context.values())]
        for out in outputs.values():
            row.append(cell(out[i] if out.ndim and i < out.shape[0] else out))
        body.append(row)
    return table(["#", *context, *outputs], body)
