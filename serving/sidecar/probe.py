"""Golden replay and the interleaved latency probe, run against a loaded candidate.

The golden replay sends a version's golden inputs and compares the answers with the outputs recorded at
training time. A version that exports an ``explain`` signature (``manifest.explain``) also replays its
explanation golden, and the answer must keep completeness (the attributions add up to prediction minus
baseline, within the manifest's tolerance): explanations that do not reproduce reject the version like
any other golden failure. Versions from before ``explain`` existed are not asked for it.

Example::

    >>> p99([1.0] * 98 + [5.0, 9.0])  # nearest rank: the 99th of 100
    5.0
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable, Mapping, Sequence

import numpy as np

from serving.protocol.dtypes import SPECS, numpy_dtype
from serving.protocol.framework import DATA_TYPES
from serving.store.manifest import Golden, Manifest

from .tfserving import ServerClient, ServerError

__all__ = ["GoldenError", "LatencyError", "replay_golden", "golden_inputs", "latency_probe", "p99", "ProbeResult"]


class GoldenError(AssertionError):
    """The candidate's outputs differ from its manifest's golden outputs."""


class LatencyError(AssertionError):
    """The candidate is slower than allowed, or failed requests, in the latency probe."""


def p99(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def golden_inputs(manifest: Manifest, golden: Golden | None = None) -> dict[str, np.ndarray]:
    """The golden inputs as arrays of the signature's dtypes (DT_FLOAT when the manifest names none)."""
    golden = golden or manifest.golden
    if golden is None:
        raise GoldenError(f"{manifest.model} version {manifest.version} has no golden samples in its manifest")
    sig = manifest.signatures.get(golden.signature_name, {})
    dtypes = {name: spec.get("dtype", "DT_FLOAT") for name, spec in sig.get("inputs", {}).items()}
    arrays = {}
    for name, value in golden.inputs.items():
        dtype = dtypes.get(name, "DT_FLOAT")
        enum = DATA_TYPES.get(dtype)
        if enum not in SPECS:
            raise GoldenError(f"{manifest.model} version {manifest.version}: golden input {name!r} has dtype {dtype}, "
                              "which no TensorProto carries")
        try:
            arrays[name] = np.asarray(value, dtype=numpy_dtype(enum))
        except (TypeError, ValueError, OverflowError) as exc:
            raise GoldenError(f"{manifest.model} version {manifest.version}: golden input {name!r} is not "
                              f"{dtype}: {exc}") from exc
    return arrays


def _differences(golden: Golden, outputs: Mapping[str, np.ndarray]) -> list[str]:
    problems = []
    for name, expected in golden.outputs.items():
        if name not in outputs:
            problems.append(f"output {name!r} missing")
            continue
        want = np.asarray(expected, dtype=np.float64)
        got = np.asarray(outputs[name]).astype(np.float64)
        if want.shape != got.shape:
            problems.append(f"output {name!r} shape {got.shape} != golden {want.shape}")
        elif not np.allclose(got, want, rtol=golden.rtol, atol=golden.atol, equal_nan=False):
            worst = float(np.nanmax(np.abs(got - want))) if np.isfinite(got).any() else float("nan")
            problems.append(f"output {name!r} differs from golden by up to {worst:.6g} "
                            f"(rtol={golden.rtol}, atol={golden.atol})")
    return problems


def replay_golden(client: ServerClient, model_name: str, version: int, manifest: Manifest) -> None:
    """Predict the golden inputs on ``model_name``/``version`` and compare within rtol/atol; then the
    ``explain`` golden and its completeness, when the version has one. Raises GoldenError."""
    golden = manifest.golden
    outputs = client.predict(model_name, golden_inputs(manifest), version=version,
                             signature_name=golden.signature_name)
    problems = _differences(golden, outputs)
    explain = manifest.explain
    if not problems and explain is not None and explain.golden is not None:
        try:
            answer = client.predict(model_name, golden_inputs(manifest, explain.golden), version=version,
                                    signature_name=explain.golden.signature_name)
        except ServerError as exc:
            raise GoldenError(f"{manifest.model} version {version}: its {explain.golden.signature_name!r} "
                              f"signature does not answer: {exc}") from exc
        problems += [f"{explain.golden.signature_name}: {p}" for p in _differences(explain.golden, answer)]
        problems += [f"{explain.golden.signature_name} completeness: {p}"
                     for p in explain.completeness_problems(answer)]
    if problems:
        raise GoldenError(f"{manifest.model} version {version} golden replay failed: " + "; ".join(problems))


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    candidate_p99_ms: float
    stable_p99_ms: float
    allowed_p99_ms: float


def latency_probe(client: ServerClient, *, candidate: tuple[str, int], stable: tuple[str, int],
                  inputs: Mapping[str, np.ndarray], signature_name: str, requests: int,
                  ratio: float, slack_ms: float, pause_seconds: float = 0.002,
                  timer: Callable[[], float] = time.perf_counter) -> ProbeResult:
    """Alternate requests to candidate and stable; the candidate's p99 must be within ratio OR slack.

    A short pause between requests keeps the probe from competing with plant traffic for CPU."""
    timings: dict[str, list[float]] = {"candidate": [], "stable": []}
    targets = {"candidate": candidate, "stable": stable}
    for i in range(requests * 2):
        which = ("candidate", "stable")[i % 2]
        name, version = targets[which]
        started = timer()
        try:
            client.predict(name, inputs, version=version, signature_name=signature_name)
        except Exception as exc:
            if which == "candidate":
                raise LatencyError(f"candidate {name} version {version} failed during the latency probe: {exc}") from exc
            raise
        timings[which].append((timer() - started) * 1000)
        if pause_seconds:
            time.sleep(pause_seconds)
    # One scheduler hiccup on a shared node must not decide: drop each side's single slowest request.
    cand, base = (p99(sorted(timings[k])[:-1] if len(timings[k]) > 10 else timings[k])
                  for k in ("candidate", "stable"))
    allowed = max(base * ratio, base + slack_ms)
    result = ProbeResult(round(cand, 3), round(base, 3), round(allowed, 3))
    if cand > allowed:
        raise LatencyError(f"candidate p99 {cand:.2f} ms > allowed {allowed:.2f} ms "
                           f"(stable p99 {base:.2f} ms, ratio {ratio}, slack {slack_ms} ms)")
    return result
