"""The sidecar next to each TF Serving container: verified version sync from object storage,
safe rollout and rollback, and metrics.

The promise: no plant request is ever answered by a version that has not been fully downloaded,
checksum-verified, loaded, smoke-tested against its golden samples and latency-checked, and a bad
version is rolled back without a failed request.

Data path (kserve agent shape)::

    Agent (agent.py): watcher tick every --poll-interval-seconds -> one queue + thread per model
      ModelWorker (worker.py), serial per model:
        StoreView (store_view.py)  pointer (pointer.py) + complete versions + downloads (sync.py)
        decide.py                  startup version, target version, rollback reason (pure)
        rollout.py                 verify (compat.py) -> load shadow -> golden + latency (probe.py) -> promote
        ServingConfig (applier.py) the one ModelServerConfig, labels only on AVAILABLE versions
      ServerClient (tfserving.py): TF Serving's gRPC ModelService / PredictionService only
      server_metrics.py: the server's own Prometheus page, for automatic rollback
    http.py: /metrics /readyz /healthz /startupz /status;  k8s.py: Events + pod annotation

Nothing here reads env or argv at import time: ``cli.run`` builds the one ``Settings`` object.
"""
