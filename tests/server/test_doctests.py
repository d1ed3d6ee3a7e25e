"""The docstring examples in serving.server are runnable and right."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import serving.server

MODULES = sorted(m.name for m in pkgutil.iter_modules(serving.server.__path__, "serving.server."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
