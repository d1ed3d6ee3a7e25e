"""``plantserve bench``: an open- or closed-loop load generator for any TF Serving endpoint.

Modules: ``settings`` (flags -> one frozen object), ``payload`` (the request, encoded once),
``rest_engine`` / ``grpc_engine`` (the load loops), ``worker_plan`` and ``runner`` (processes),
``samples``, ``stats`` and ``plot`` (results), ``session`` (one run end to end), ``cli``.
"""
from __future__ import annotations

__all__: list[str] = []
