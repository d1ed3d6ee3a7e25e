"""The tests' name for :mod:`labkit.savedmodels` (shared with the benchmarks)."""
from labkit.savedmodels import *  # noqa: F401,F403
from labkit.savedmodels import __all__  # noqa: F401
