"""The docstring examples in serving.bench are runnable and right."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import serving.bench

MODULES = sorted(m.name for m in pkgutil.iter_modules(serving.bench.__path__, "serving.bench."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
