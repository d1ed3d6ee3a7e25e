"""The tests' name for :mod:`labkit.pods` (shared with the benchmarks)."""
from labkit.pods import *  # noqa: F401,F403
from labkit.pods import __all__  # noqa: F401
