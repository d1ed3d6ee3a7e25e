"""The one plain-text table printer of every plantserve command (``predict``, ``explain``, ``rollout
status``, the demo): columns sized to their widest cell, numbers right-aligned, text left-aligned.

Example::

    >>> print(table(["model", "stable", "p99 ms"], [["fuel", 3, 4.25], ["defect", None, 12.0]], rule=True))
    model   stable  p99 ms
    ------  ------  ------
    fuel         3    4.25
    defect       -      12
"""
from __future__ import annotations

from typing import Any, Sequence

__all__ = ["table", "cell"]


def cell(value: Any, float_format: str = "{:.4g}") -> str:
    """One cell: None is "-", floats per ``float_format``, bytes decoded, arrays as ``[a b c …]``."""
    if value is None:
        return "-"
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if getattr(value, "ndim", 0) > 0:  # a numpy array (no numpy import needed here); scalars have ndim 0
        flat = value.reshape(-1)
        return "[" + " ".join(cell(v, float_format) for v in flat[:8]) + (" …" if flat.size > 8 else "") + "]"
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return float_format.format(float(value))
    return str(value)


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or type(value).__name__.startswith(
        ("float", "int", "uint"))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, indent: str = "", rule: bool = False,
          float_format: str = "{:.4g}") -> str:
    """``rows`` of raw values; a column whose values are all numbers (or None) is right-aligned."""
    text = [[cell(v, float_format) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in text if i < len(r))]) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(r[i] is None or _numeric(r[i]) for r in rows if i < len(r))
               for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return (indent + "  ".join(parts)).rstrip()

    lines = [line(headers), *([line(["-" * w for w in widths])] if rule else []), *(line(r) for r in text)]
    return "\n".join(lines)
