"""One training run, start to publish: data → model → train → evaluate → gate → export → publish.

Nothing reaches the store until the gate has passed; the version number is claimed only then,
and the manifest is the last object written, so a crash at any point leaves no visible version.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from serving.store import open_store
from serving.store.manifest import Golden, Manifest, PrimaryMetric, TrustSpec, file_entries
from serving.store.repository import ModelRepository

from .explain import report as explain_report
from .export import describe_signatures, export_version, load_signatures, read_warmup
from .gate import check_gate
from .models import get_task
from .settings import TrainSettings
from .strategies import apply_strategy

__all__ = ["RunResult", "GateRefused", "train_and_publish"]

log = logging.getLogger(__name__)

GOLDEN_ROWS = 8  # held-out inputs recorded with their outputs for the sidecar's smoke test
GOLDEN_RTOL = 1e-3
GOLDEN_ATOL = 1e-4
#: Golden rows whose explanations are recorded too (a defect map is 784 numbers a row).
EXPLAIN_GOLDEN_ROWS = 4
#: Attributions sum many gradients: allow for another runtime's summation order.
EXPLAIN_GOLDEN_RTOL = 1e-3
EXPLAIN_GOLDEN_ATOL = 1e-4
SMALL_UPLOAD_BYTES = 16 * 1024 * 1024  # below this, upload progress is one line


class GateRefused(RuntimeError):
    """The quality gate refused the new version; nothing was published."""

    def __init__(self, reasons: list[str], metrics: dict[str, Any]) -> None:
        super().__init__("quality gate refused to publish: " + "; ".join(reasons) + " (use --force to override)")
        self.reasons = reasons
        self.metrics = metrics


@dataclasses.dataclass(frozen=True)
class RunResult:
    model: str
    version: int
    uri: str
    metrics: dict[str, Any]
    report: str
    manifest: Manifest
    epoch_losses: list[float]


class _UploadProgress:
    """Prints upload progress in 10% steps, or once for small versions (thread-safe: files upload in parallel)."""

    def __init__(self, total: int, out: TextIO) -> None:
        step = 10 if total >= SMALL_UPLOAD_BYTES else 100
        self.total, self.done, self.next_mark, self.out, self.step = max(total, 1), 0, step, out, step
        self.lock = threading.Lock()

    def __call__(self, n: int) -> None:
        with self.lock:
            self.done += n
            percent = self.done * 100 // self.total
            while percent >= self.next_mark:
                print(f"  uploaded {self.done / 1e6:7.1f} / {self.total / 1e6:.1f} MB ({self.next_mark}%)",
                      file=self.out, flush=True)
                self.next_mark += self.step


def _tolist(value: np.ndarray) -> Any:
    if value.dtype.kind in "SO":
        return [v.decode() if isinstance(v, bytes) else v for v in value.ravel().tolist()]
    return value.tolist()


def train_and_publish(settings: TrainSettings, out: TextIO = sys.stdout) -> RunResult:
    task = get_task(settings.model)
    store = open_store(settings.store, settings.s3_options(), create=True)
    repo = ModelRepository(store, settings.model)
    latest = repo.latest()  # also the first store access: a bad store fails before any training
    print(f"{settings.model}: store {store.uri}, latest version {latest or 'none'}, strategy {settings.strategy}",
          file=out, flush=True)

    import keras

    keras.utils.set_random_seed(settings.seed)
    data = task.load_data(settings)
    model = task.build(data, adapt=settings.strategy == "full")
    apply_strategy(settings.strategy, model, task.feature_layers(model), store, settings.model, latest,
                   task.graph_version)
    epochs = settings.epochs or task.default_epochs
    print(f"training {settings.model} for up to {epochs} epochs on {data.info['train_rows']} rows", file=out, flush=True)
    losses = task.fit(model, data, epochs, settings.verbose)
    trust_fit = task.fit_trust(model, data)
    info = task.explain_info(data, settings.explain_steps)

    with tempfile.TemporaryDirectory(prefix=f"plantserve-{settings.model}-") as tmp:
        export_dir = Path(tmp) / "version"
        records = export_version(task, model, data, export_dir, settings.model, trust_fit, settings.explain_steps)
        signatures = load_signatures(export_dir)  # evaluate the artifact a server will load
        predict = signatures["serving_default"]
        for record in read_warmup(export_dir / "assets.extra/tf_serving_warmup_requests"):
            request = record.predict_log.request
            signatures[request.model_spec.signature_name or "serving_default"](
                {k: _tensor(v) for k, v in request.inputs.items()})
        metrics = task.evaluate(predict, data)
        report = task.report(metrics)
        print(report, file=out, flush=True)
        print(f"{settings.model}: measuring explanations and input trust on the held-out data", file=out, flush=True)
        completeness = explain_report.evaluate_explain(task, info, signatures["explain"], data)
        trust_figures = explain_report.evaluate_trust(task, signatures["trust"], data)
        print(explain_report.report(settings.model, info, completeness, trust_fit, trust_figures), file=out, flush=True)

        gate = check_gate(task, data, metrics, repo, latest, settings.gate_tolerance, settings.gate_threshold)
        if gate.latest_metrics is not None:
            print(f"latest version {gate.latest_version}: {task.primary_metric} "
                  f"{gate.latest_metrics[task.primary_metric]:.4f} on the same held-out data", file=out)
        if not gate.passed and not settings.force:
            raise GateRefused(gate.reasons, metrics)
        forced = {"reasons": gate.reasons} if not gate.passed else None

        golden_inputs = task.request(data.x_test[:GOLDEN_ROWS])
        golden = Golden("serving_default", {k: _tolist(v) for k, v in golden_inputs.items()},
                        {k: _tolist(v) for k, v in predict(golden_inputs).items()}, GOLDEN_RTOL, GOLDEN_ATOL)
        explain_inputs = {k: v[:EXPLAIN_GOLDEN_ROWS] for k, v in golden_inputs.items()}
        explain_golden = Golden("explain", {k: _tolist(v) for k, v in explain_inputs.items()},
                                explain_report.numeric_outputs(signatures["explain"](explain_inputs)),
                                EXPLAIN_GOLDEN_RTOL, EXPLAIN_GOLDEN_ATOL)
        version = repo.reserve_next()
        import tensorflow as tf

        manifest = Manifest(
            model=settings.model, version=version, files=file_entries(export_dir),
            signatures=describe_signatures(export_dir),
            metrics={k: v for k, v in metrics.items()},
            primary_metric=PrimaryMetric(task.primary_metric, task.goal, float(metrics[task.primary_metric])),
            data_fingerprint=data.fingerprint, parent_version=latest if settings.strategy != "full" else None,
            strategy=settings.strategy, golden=golden, forced=forced,
            created_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            training={"graph_version": task.graph_version, "epochs_run": len(losses), "seed": settings.seed,
                      "warmup_records": records,
                      "tensorflow": tf.__version__, "previous_latest": latest,
                      "data": {k: v for k, v in data.info.items() if k in ("source", "classes", "dropped_rows", "train_rows")}},
            explain=dataclasses.replace(info, golden=explain_golden, evaluation={"test_split": completeness}),
            trust=TrustSpec(signature_name="trust", method=trust_fit.method, threshold=trust_fit.threshold,
                            quantile=trust_fit.quantile, calibration_rows=trust_fit.calibration_rows,
                            details=trust_fit.details, evaluation=trust_figures),
        )
        progress = _UploadProgress(manifest.total_bytes, out) if settings.verbose else None
        signature = None
        if settings.signing is not None:  # over the staged copy, manifest.json included; uploaded before it
            from serving.signing import load_signer, sign_staged

            signer = load_signer(settings.signing)
            signature = sign_staged(export_dir, manifest, signer)
            print(f"signed {settings.model} version {version} with {signer.describe()}", file=out, flush=True)
        uri = repo.publish(export_dir, manifest, progress, signature=signature)
    print(f"published {uri}" + (" (FORCED past the quality gate)" if forced else ""), file=out, flush=True)
    return RunResult(settings.model, version, uri, metrics, report, manifest, losses)


def _tensor(proto) -> np.ndarray:
    from serving.protocol.tensors import to_ndarray

    return to_ndarray(proto)

