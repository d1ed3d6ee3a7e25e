"""The tests' name for :mod:`labkit.faultproxy` (shared with the benchmarks)."""
from labkit.faultproxy import FaultProxy  # noqa: F401
