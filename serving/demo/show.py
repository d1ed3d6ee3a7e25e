"""Headings, and the demo's style of the one table printer (:func:`serving.table.table`: indented, with
a rule under the headers, floats to one decimal).

Example::

    >>> print(table(["car", "mpg"], [["opel 1900", 28.0]]))
      car         mpg
      ---------  ----
      opel 1900  28.0
"""
from __future__ import annotations

import functools
from typing import TextIO

from serving import table as _table

__all__ = ["table", "heading", "ms", "TOTAL_STEPS"]

#: The demo's numbered steps, shutdown included.
TOTAL_STEPS = 10

#: ``table(headers, rows)`` as the demo prints it.
table = functools.partial(_table.table, indent="  ", rule=True, float_format="{:.1f}")


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def heading(out: TextIO, number: int, title: str, elapsed: float) -> None:
    print(f"\n[{number}/{TOTAL_STEPS}] {title}  (t+{elapsed:.0f}s)", file=out, flush=True)
