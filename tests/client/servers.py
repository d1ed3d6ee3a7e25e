"""The tests' name for :mod:`labkit.serve` (shared with the benchmarks)."""
from labkit.serve import *  # noqa: F401,F403
from labkit.serve import __all__  # noqa: F401
