"""The docstring examples in serving.protocol are runnable and right."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import serving.protocol

MODULES = ["serving.protocol"] + sorted(m.name for m in pkgutil.iter_modules(serving.protocol.__path__,
                                                                             "serving.protocol."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
