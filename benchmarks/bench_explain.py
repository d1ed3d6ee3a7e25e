"""Explanations and trust served by the model itself (issue 14), against their peers, side by side
in one run against one ``plantserve serve`` (fuel and defect, label ``stable``):

1. One fuel explanation over gRPC (``PredictClient.explain``: integrated gradients in the graph)
   vs Kernel SHAP calling the same server: shap's ``KernelExplainer`` with its documented
   default sampling (``nsamples="auto"``) and a model function that sends every batch of
   perturbed rows as one gRPC predict. Two backgrounds: the training medians alone (the same
   baseline as ours: with 7 features Kernel SHAP then enumerates at most 2^7 - 2 coalitions), and
   100 training rows (``shap.sample``, the size above which shap warns of slow run times).
   Goal: >= 50x faster, similar attributions (Spearman rank correlation printed).
2. One defect explanation (one image, ``explain``) vs one plain predict of the same image.
   Goal: <= 10x the latency.
3. ``trust`` vs a plain predict, fuel (one row) and defect (one image). Goal: <= 1.5x.

Latencies are medians of interleaved rounds (each round calls both sides once), so machine noise
hits both alike. Set PLANTSERVE_BENCH_STORE to a store whose latest fuel and defect versions
export ``explain``; otherwise ``var/store``, where missing or older versions are trained once.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ROUNDS = 200
SHAP_ROUNDS = 20
FEATURES = ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin")


def bench_store() -> tuple[Path, dict[str, int]]:
    """The store and each model's latest version, training a version with ``explain`` when missing."""
    from serving.store import open_store
    from serving.store.repository import ModelRepository

    store = Path(os.environ.get("PLANTSERVE_BENCH_STORE", REPO / "var" / "store"))
    versions = {}
    for model in ("fuel", "defect"):
        repo = ModelRepository(open_store(str(store), create=True), model)
        latest = repo.latest()
        if latest is None or repo.manifest(latest).explain is None:
            print(f"  training {model} into {store} (its latest version has no explain signature)", flush=True)
            subprocess.run([sys.executable, "-m", "serving.cli", "train", model, "--store", str(store), "--quiet",
                            "--force"], check=True, cwd=REPO)
            latest = repo.latest()
        versions[model] = latest
    return store, versions


def paired_medians(theirs: Callable[[], object], ours: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median seconds of each, over ``rounds`` interleaved rounds (after one warm-up call each)."""
    theirs(), ours()
    samples: dict[Callable, list[float]] = {theirs: [], ours: []}
    for i in range(rounds):
        for fn in ((theirs, ours) if i % 2 == 0 else (ours, theirs)):
            started = time.perf_counter()
            fn()
            samples[fn].append(time.perf_counter() - started)
    return statistics.median(samples[theirs]), statistics.median(samples[ours])


def _row(name: str, peer: str, theirs: float, ours: float, ratio_text: str, goal: str) -> None:
    print(f"  {name:<34} {peer:<26} {theirs * 1e3:>10.2f} ms {ours * 1e3:>10.2f} ms   {ratio_text:<16} ({goal})",
          flush=True)


def bench_fuel(client, version: int, car: dict[str, np.ndarray], background: np.ndarray, name: str,
               steps: int) -> dict[str, float]:
    import shap
    from scipy.stats import spearmanr

    def model(x: np.ndarray) -> np.ndarray:  # what KernelExplainer calls: one predict per batch
        columns = {f: np.ascontiguousarray(x[:, i], np.float32) for i, f in enumerate(FEATURES)}
        return np.asarray(client.predict("fuel", columns, version=version)["mpg"], np.float64)

    row = np.array([[car[f][0] for f in FEATURES]], np.float64)
    explainer = shap.KernelExplainer(model, background.astype(np.float64))
    calls = {"n": 0, "rows": 0}

    def counted(x: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        calls["rows"] += len(x)
        return model(x)

    explainer.model.f = counted
    kernel = np.ravel(explainer.shap_values(row, silent=True))
    per_explanation = dict(calls)

    def theirs():
        return explainer.shap_values(row, silent=True)

    def ours():
        return client.explain("fuel", car, version=version)

    t_theirs, t_ours = paired_medians(theirs, ours, SHAP_ROUNDS)
    served = client.explain("fuel", car, version=version)[0]
    ig = np.array([served.attributions[f] for f in FEATURES])
    rho = float(spearmanr(ig, kernel).statistic)
    _row("one fuel explanation over gRPC", f"Kernel SHAP, {name}", t_theirs, t_ours,
         f"{t_theirs / t_ours:7.1f}x faster", "goal >= 50x")
    print(f"    Kernel SHAP: {per_explanation['n']} predict call(s), {per_explanation['rows']} rows evaluated; "
          f"ours: 1 call, {2 + steps} rows in the graph")
    print("    attributions (mpg)  " + "  ".join(f"{f[:8]:>8}" for f in FEATURES))
    print("    integrated grads    " + "  ".join(f"{v:>8.2f}" for v in ig))
    print("    Kernel SHAP         " + "  ".join(f"{v:>8.2f}" for v in kernel))
    print(f"    Spearman rank correlation {rho:.3f}; sums {ig.sum():.2f} vs {kernel.sum():.2f} "
          f"(ours add up to prediction - baseline {served.prediction - served.baseline:.2f}; Kernel SHAP's to "
          "prediction - mean over its background)")
    return {"kernel_shap_ms": t_theirs * 1e3, "explain_ms": t_ours * 1e3, "speedup": t_theirs / t_ours,
            "spearman": rho, "kernel_shap_rows": per_explanation["rows"]}


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from serving.client import PredictClient
    from labkit.serve import start_serve
    from training.data.defects import render
    from training.data.fuel import load_fuel

    import shap
    from serving.store import open_store
    from serving.store.repository import ModelRepository

    store, versions = bench_store()
    steps = ModelRepository(open_store(str(store)), "fuel").manifest(versions["fuel"]).explain.steps
    data = load_fuel()
    medians = np.nanmedian(data.x_train, axis=0)
    train = np.where(np.isnan(data.x_train), medians, data.x_train)
    car = {f: data.x_test[:1, i].astype(np.float32) for i, f in enumerate(FEATURES)}
    image = render(np.random.default_rng(5), "crack")[None, :, :, None]
    results: dict[str, object] = {"versions": versions}
    with tempfile.TemporaryDirectory() as tmp:
        with start_serve(Path(tmp), store, ("fuel", "defect"), label_version=None) as server, \
                PredictClient(server.grpc_target, timeout_seconds=60) as client:
            fuel_v, defect_v = versions["fuel"], versions["defect"]
            print(f"plantserve serve on {server.grpc_target}: fuel v{fuel_v}, defect v{defect_v}; medians of "
                  f"interleaved rounds ({ROUNDS}, Kernel SHAP {SHAP_ROUNDS})")
            print(f"  {'measure':<34} {'peer':<26} {'peer':>13} {'ours':>13}   ratio")
            results["fuel_medians_background"] = bench_fuel(client, fuel_v, car, medians[None, :],
                                                            "medians background", steps)
            results["fuel_100_row_background"] = bench_fuel(client, fuel_v, car, shap.sample(train, 100, random_state=0),
                                                            "100-row background", steps)
            t_predict, t_explain = paired_medians(lambda: client.predict("defect", image, version=defect_v),
                                                  lambda: client.explain("defect", image, version=defect_v), ROUNDS)
            _row("one defect explanation (1 image)", "one plain predict", t_predict, t_explain,
                 f"{t_explain / t_predict:7.2f}x", "goal <= 10x")
            results["defect_explain"] = {"predict_ms": t_predict * 1e3, "explain_ms": t_explain * 1e3,
                                         "ratio": t_explain / t_predict}
            for model, inputs, version in (("fuel", car, fuel_v), ("defect", image, defect_v)):
                t_predict, t_trust = paired_medians(lambda: client.predict(model, inputs, version=version),
                                                    lambda: client.trust(model, inputs, version=version), ROUNDS)
                _row(f"{model} trust (1 row)", "one plain predict", t_predict, t_trust,
                     f"{t_trust / t_predict:7.2f}x", "goal <= 1.5x")
                results[f"{model}_trust"] = {"predict_ms": t_predict * 1e3, "trust_ms": t_trust * 1e3,
                                             "ratio": t_trust / t_predict}
    print(json.dumps({"explain": results}))


if __name__ == "__main__":
    main()
