"""The sidecar next to each TF Serving container: verified version sync from object storage,
safe rollout and rollback, and metrics. It imports no TensorFlow (``pip install plantserve[sidecar]``).

The promise: no plant request is ever answered by a version that has not been fully downloaded,
checksum-verified (and signature-verified when trust anchors are set), loaded, smoke-tested against its
golden samples and explanations, and latency-checked; and a bad version is rolled back without a failed
request.

**Where each phase lives.** Every model has one worker (``worker.ModelWorker``) that ticks serially:
observe -> plan (``decide.plan``, pure) -> apply. Its phase (``state.Phase``) is stored at each
transition, shown in ``/status`` and exported as ``plantserve_model_phase``:

=================  ====================================================================================
phase              code
=================  ====================================================================================
``starting``       ``worker._bootstrap``: ``decide.startup_version``, then ``store_view.StoreView.download``
                   (``sync.Downloader``: staging dir, sha256 per file, signature, rename) before the server starts
``loading``        ``worker._observe_server``; ``applier.ServingConfig`` sends labels only on AVAILABLE
                   versions (and writes the start-up file, with labels when the server allows them)
``verifying``      ``transitions._verify_stable`` -> ``probe.replay_golden`` (golden and ``explain`` outputs)
``serving``        following the store: ``decide.target_version`` picks the next version
``rolling_out``    ``transitions._roll_out`` -> ``rollout.py``: download, verify (``compat.py``), load under a
                   shadow name, golden, latency probe (``probe.py``), promote (two-step label move)
``watching``       the rollback window: ``judge.PromotionJudge`` reads the server's own metrics
                   (``server_metrics.py``) and ``decide.rollback_reason`` judges them; a server restart
                   re-baselines instead of judging
``rolling_back``   ``transitions._switch_back``: ``stable`` moves to the still-loaded previous version
``degraded``       the server is unreachable or nothing is eligible: ``/status`` ``errors`` says why
=================  ====================================================================================

The worker (``worker.py``) observes and plans; the actions that change versions live in
``transitions.py``.

Around the workers::

    agent.py         the watcher tick, one queue and thread per model, readiness (/readyz)
    store_view.py    the store through one model's eyes: pointer (pointer.py), versions, back-off
    server_view.py   the server through one model's eyes: states, labels, availability metrics
    tfserving.py     the server's gRPC ModelService / PredictionService (serving.protocol), TLS
    http.py          /metrics /readyz /healthz /startupz /status
    k8s.py           Events and the pod annotation, through kubeapi.py (the API server, no client library)
    rollout_cli.py   ``plantserve rollout``: the fleet pointer, status, rollback of what is served
    settings.py      the one settings object (serving/settings.py declares flags, env and defaults)

Nothing here reads env or argv at import time: ``cli.run`` builds the one ``Settings`` object.
"""
