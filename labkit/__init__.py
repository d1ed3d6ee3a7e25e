"""The project's own processes on loopback, for the tests and the benchmarks alike: subprocesses that are
always cleaned up (``procs``), moto's S3 server (``moto``), ``plantserve serve`` (``serve``), sidecar and
server pairs with a load generator (``pods``), and tiny SavedModels (``savedmodels``).

Not part of the installed package: it runs from the repository (pytest and ``python -m benchmarks`` put
the repository root on ``sys.path``). Nothing here reads env or argv at import time.
"""
