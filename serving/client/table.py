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

__all__ = ["render", "format_cell"]


def format_cell(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.ndarray):
        flat = value.reshape(-1)
        cells = [format_cell(v) for v in flat[:8]]
        return "[" + " ".join(cells) + (" …" if flat.size > 8 else "") + "]"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def render(outputs: Mapping[str, np.ndarray], context: Mapping[str, Sequence[str]] | None = None) -> str:
    context = context or {}
    rows = max([len(v) for v in context.values()] + [o.shape[0] if o.ndim else 1 for o in outputs.values()] + [0])
    header = ["#", *context, *outputs]
    body = []
    for i in range(rows):
        row = [str(i), *(str(col[i]) if i < len(col) else "" for col in context.values())]
        for out in outputs.values():
            row.append(format_cell(out[i] if out.ndim and i < out.shape[0] else out))
        body.append(row)
    widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [header, *body])
