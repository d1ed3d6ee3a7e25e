"""The tests' name for :mod:`labkit.procs` (shared with the benchmarks)."""
from labkit.procs import *  # noqa: F401,F403
from labkit.procs import __all__  # noqa: F401
