"""The sidecar without TensorFlow (issue 10): before vs after, side by side in one run.

1. **Peak RSS**, steady with two models: ``plantserve sidecar`` syncing ``fuel`` and ``line2``
   from a loopback S3 server (moto) next to a real ``plantserve serve``, polling every second;
   ``VmHWM`` after STEADY_SECONDS of steady state. Goal: <= 100 MiB.
2. **Import and start**: importing what ``plantserve sidecar`` runs, then boto3 (the S3 store opens
   it), in a fresh interpreter (best of IMPORT_RUNS); "after" also in the fresh ``.[sidecar]`` venv of
   3 (the image's set). Process start to ``/startupz`` with both stable versions already on disk
   (best of 3). Goal: import <= 0.5 s.
3. **Wheel set**: ``pip install .[sidecar]`` into a fresh venv, size of what it added on disk, with
   the largest distributions. Goal: <= 150 MiB. Before: the ``.[full]`` set the image installed,
   summed from the installed distributions' file lists in this venv (no 1.5 GB download).

"Before" is the code at ``BEFORE_REF`` (the last commit whose sidecar imported TensorFlow),
unpacked with ``git archive``; "after" is this tree, run in this venv (side by side with before)
and from the fresh ``.[sidecar]`` venv of 3, the image's set (also with ``--kubernetes``, which
imports the kubernetes client). Every sidecar drives this tree's server.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.lean_sidecar_pod import REPO, Pod, Runtime, loopback_s3
from benchmarks.wheel_sets import closure_mib, fresh_venv_install

BEFORE_REF = "c0266f4"
STEADY_SECONDS = 20
RUNS = 3
IMPORT_RUNS = 5
#: What ``plantserve sidecar`` imports before it serves (serving/sidecar/cli.py run()); boto3 comes
#: when the S3 store opens.
IMPORTS = ("serving.cli", "serving.sidecar.cli", "serving.sidecar.agent", "serving.sidecar.http",
           "serving.sidecar.metrics", "serving.sidecar.tfserving", "serving.store", "prometheus_client")
_IMPORT_TIMER = ("import sys, time; t = time.perf_counter()\nimport " + ", ".join(IMPORTS) +
                 "\nt1 = time.perf_counter()\nimport boto3\n"
                 "print(t1 - t, time.perf_counter() - t, int('tensorflow' in sys.modules))")


def _steady_peak_rss(pod: Pod, kubernetes: bool = False) -> float:
    sidecar = pod.sidecar(kubernetes)
    server = None
    try:
        pod.wait("startupz", sidecar, 300)
        server = pod.server()
        pod.wait("readyz", sidecar, 300)
        time.sleep(STEADY_SECONDS)  # steady state is a duration: polls of the store, the server, its metrics
        sidecar.check_alive()
        return sidecar.peak_rss_mib()
    finally:
        sidecar.stop()
        if server is not None:
            server.stop()


def _start_to_startupz(pod: Pod) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.monotonic()
        sidecar = pod.sidecar()
        try:
            pod.wait("startupz", sidecar, 120)
            best = min(best, time.monotonic() - started)
        finally:
            sidecar.stop()
    return best


def _import_seconds(runtime: Runtime, cwd: Path) -> dict[str, float]:
    """Best of IMPORT_RUNS: the sidecar's modules, the same plus boto3, and whether tensorflow got loaded."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(runtime.env())
    best = {"import": float("inf"), "import_s3": float("inf"), "tensorflow": 0.0}
    for _ in range(IMPORT_RUNS):
        out = subprocess.run([runtime.python, "-c", _IMPORT_TIMER], cwd=runtime.tree or cwd, capture_output=True,
                             text=True, env=env, check=True)
        own, with_s3, tf_loaded = out.stdout.split()
        best = {"import": min(best["import"], float(own)), "import_s3": min(best["import_s3"], float(with_s3)),
                "tensorflow": float(tf_loaded)}
    return best


def _before_tree(tmp: Path) -> Path | None:
    dest = tmp / f"before-{BEFORE_REF}"
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE_REF, "serving", "training", "pyproject.toml"],
                             capture_output=True)
    if archive.returncode != 0:
        print(f"  before: git archive {BEFORE_REF} failed ({archive.stderr.decode().strip()}); after only")
        return None
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def _row(name: str, before: str, after: str, ratio: str, goal: str) -> None:
    print(f"  {name:46} {before:>16} {after:>12} {ratio:>8} {goal:>10}", flush=True)


def _measure(runtime: Runtime, tmp: Path, uri: str, endpoint: str, kubernetes: bool) -> dict[str, float]:
    pod = Pod(runtime, tmp / runtime.name.replace(" ", "-"), uri, endpoint)
    out = {"rss": _steady_peak_rss(pod), "start": _start_to_startupz(pod), **_import_seconds(runtime, tmp)}
    if kubernetes:
        out["rss_k8s"] = _steady_peak_rss(pod, kubernetes=True)
    print(f"  {runtime.name}: peak RSS {out['rss']:.0f} MiB"
          + (f" ({out['rss_k8s']:.0f} MiB with --kubernetes)" if kubernetes else "")
          + f", import {out['import']:.2f} s (+boto3 {out['import_s3']:.2f} s, tensorflow loaded: "
          f"{bool(out['tensorflow'])}), start to /startupz {out['start']:.2f} s", flush=True)
    return out


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-lean-sidecar-"))
    try:
        before = _before_tree(tmp)
        print("wheel set: a fresh venv and pip install .[sidecar] (the image's set; this may take minutes)",
              flush=True)
        venv = tmp / "venv"
        after_set, top = fresh_venv_install(REPO, "sidecar", venv)
        before_set, before_top = closure_mib((before or REPO) / "pyproject.toml", "full")
        runtimes = [Runtime("after, image set", str(venv / "bin" / "python"), None),
                    Runtime("after", sys.executable, REPO)]
        if before is not None:
            runtimes.insert(0, Runtime("before", sys.executable, before))
        print(f"two models on a loopback S3 store; per sidecar: {STEADY_SECONDS} s steady, {IMPORT_RUNS} imports, "
              f"{RUNS} starts; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
        with loopback_s3(tmp) as (uri, endpoint):
            results = {rt.name: _measure(rt, tmp, uri, endpoint, kubernetes=rt.tree is None) for rt in runtimes}
        old, new, image = results.get("before", {}), results["after"], results["after, image set"]
        print(f"\n  {'':46} {'before ' + BEFORE_REF:>16} {'after':>12} {'ratio':>8} {'goal':>10}")
        for key, name, goal in (("rss", "sidecar peak RSS, steady, 2 models (MiB)", "<= 100"),
                                ("import", "import of what the sidecar runs (s)", ""),
                                ("import_s3", "  the same + boto3, the S3 store (s)", "<= 0.5"),
                                ("start", "start to /startupz, models on disk (s)", "")):
            had = old.get(key)
            _row(name, f"{had:.2f}" if had is not None else "-", f"{new[key]:.2f}",
                 f"{had / new[key]:.1f}x" if had else "", goal)
        print("  the image's set (a fresh .[sidecar] venv), after only:")
        _row("  peak RSS (MiB)", "", f"{image['rss']:.2f}", "", "<= 100")
        _row("  peak RSS with --kubernetes (MiB)", "", f"{image['rss_k8s']:.2f}", "", "<= 100")
        _row("  import, + boto3 (s)", "", f"{image['import']:.2f}, {image['import_s3']:.2f}", "", "<= 0.5")
        _row("  start to /startupz (s)", "", f"{image['start']:.2f}", "", "")
        _row("wheel set (MiB): .[full] before, .[sidecar] after", f"{before_set:.0f}", f"{after_set:.0f}",
             f"{before_set / after_set:.1f}x", "<= 150")
        print("  largest distributions, before (.[full] as installed here, MiB): "
              + ", ".join(f"{name} {size:.0f}" for name, size in before_top[:6]))
        print("  largest distributions, after (the fresh .[sidecar] venv, MiB): "
              + ", ".join(f"{name} {size:.1f}" for name, size in top[:10]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
