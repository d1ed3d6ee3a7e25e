"""Is a candidate's serving signature compatible with the stable one's?

Compatible means: every signature the stable version serves still exists, with the same input
names and dtypes, and each input shape accepts what callers send today (same rank; a dim may
stay, or widen to -1, but never narrow or change). Outputs callers read must stay too.

Example::

    >>> sig = {"serving_default": {"inputs": {"x": {"dtype": "DT_FLOAT", "shape": [-1]}},
    ...                            "outputs": {"y": {"dtype": "DT_FLOAT", "shape": [-1]}}}}
    >>> incompatibilities(sig, sig)
    []
"""
from __future__ import annotations

from typing import Any, Mapping

__all__ = ["incompatibilities"]


def _shape_problem(old: list[int] | None, new: list[int] | None) -> str | None:
    if old is None or new is None:  # unknown rank accepts anything
        return None if new is None else "shape narrowed from unknown rank"
    if len(old) != len(new):
        return f"rank {len(old)} -> {len(new)}"
    for i, (a, b) in enumerate(zip(old, new)):
        if b != -1 and a != b:
            return f"dim {i}: {a} -> {b}"
    return None


def _tensors(old: Mapping[str, Any], new: Mapping[str, Any], where: str, same_names: bool) -> list[str]:
    problems = []
    if same_names and set(old) != set(new):
        problems.append(f"{where} names {sorted(old)} -> {sorted(new)}")
    for name, spec in sorted(old.items()):
        if name not in new:
            if not same_names:
                problems.append(f"{where} {name!r} removed")
            continue
        if spec.get("dtype") != new[name].get("dtype"):
            problems.append(f"{where} {name!r} dtype {spec.get('dtype')} -> {new[name].get('dtype')}")
        shape_problem = _shape_problem(spec.get("shape"), new[name].get("shape"))
        if shape_problem:
            problems.append(f"{where} {name!r} {shape_problem}")
    return problems


def incompatibilities(stable: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[str]:
    """Every way ``candidate``'s signatures break callers of ``stable``'s (empty = compatible)."""
    problems = []
    for sig_name, old in sorted(stable.items()):
        new = candidate.get(sig_name)
        if new is None:
            problems.append(f"signature {sig_name!r} removed")
            continue
        problems += _tensors(old.get("inputs", {}), new.get("inputs", {}), f"{sig_name}: input", True)
        problems += _tensors(old.get("outputs", {}), new.get("outputs", {}), f"{sig_name}: output", False)
    return problems
