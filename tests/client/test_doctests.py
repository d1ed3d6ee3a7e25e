"""The docstring examples in serving.client are runnable and right."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import serving.client

MODULES = sorted(m.name for m in pkgutil.iter_modules(serving.client.__path__, "serving.client."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
