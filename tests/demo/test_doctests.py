"""The examples in serving.demo's docstrings run."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["settings", "interrupts", "children", "show", "traffic", "watch", "predictions", "signing"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(f"serving.demo.{name}")
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0
