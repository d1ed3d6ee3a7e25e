"""Plain-text tables and headings for the demo's output.

Example::

    >>> print(table(["car", "mpg"], [["opel 1900", 28.0]]))
      car         mpg
      ---------  ----
      opel 1900  28.0
"""
from __future__ import annotations

from typing import Any, Sequence, TextIO

__all__ = ["table", "heading", "cell", "ms", "TOTAL_STEPS"]

#: The demo's numbered steps, shutdown included.
TOTAL_STEPS = 10


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> str:
    """Left-aligned text columns, numbers right-aligned."""
    text = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in text)]) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(r[i], (int, float)) for r in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return (indent + "  ".join(parts)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in text)])


def heading(out: TextIO, number: int, title: str, elapsed: float) -> None:
    print(f"\n[{number}/{TOTAL_STEPS}] {title}  (t+{elapsed:.0f}s)", file=out, flush=True)
