"""The sidecar against its peers, side by side in one run:

1. **Sync throughput.** A ~500 MB SavedModel in several variable shards on a loopback S3 server
   (moto): the sidecar's download+verify (``serving.sidecar.sync.Downloader`` with the sidecar's
   default settings: 4 files at once, 32 MiB ranged GETs x 4 per file, each file hashed as soon
   as it lands, then rename) vs ``aws s3 sync``
   (AWS CLI defaults) into an empty dir, which does not verify anything. Best of 2 each, alternated.
   Target: ours >= 1x, aiming for 1.5x.
2. **Swap under load.** Steady gRPC load on label ``stable`` (one pod: ``plantserve serve`` +
   the sidecar) through a complete rollout of a new version, then through an automatic
   rollback of a version that fails on some inputs, repeated ``SWAP_CYCLES`` times. Target: 0
   failed requests; p99 during the swaps <= 2x the steady p99 (pooled over the cycles, and
   per cycle).
3. **Time to live.** From the manifest being written to the version being promoted, split by
   step (``detect`` is the wait for the next poll).

Sizes: PLANTSERVE_BENCH_SYNC_MB (default 500), PLANTSERVE_BENCH_SWAP_CYCLES (default 3).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))



def sync_mb() -> int:
    """Size of the synced model (PLANTSERVE_BENCH_SYNC_MB, default 500), read when the benchmark runs."""
    return int(os.environ.get("PLANTSERVE_BENCH_SYNC_MB", "500"))


def _swap_cycles() -> int:
    """Rollout-then-rollback cycles under load; their latencies are pooled (one swap's p99 is ~7 requests)."""
    return int(os.environ.get("PLANTSERVE_BENCH_SWAP_CYCLES", "3"))


def _p99(values: list[float]) -> float:
    from serving.sidecar.probe import p99

    return p99(values) if values else float("nan")


def _row(name: str, peer: str, ours: str, ratio: str) -> None:
    print(f"  {name:44} {peer:>18} {ours:>18} {ratio:>10}", flush=True)


def bench_sync(tmp: Path, moto) -> None:
    from serving.sidecar.cli import s3_options
    from serving.sidecar.settings import Settings
    from serving.sidecar.sync import Downloader
    from serving.store import open_store
    from serving.store.manifest import Manifest
    from labkit.pods import s3_store
    from labkit.savedmodels import Spec, build, publish

    saved = build(tmp / "big", Spec(scale=1.0, pad_bytes=sync_mb() * 1024 * 1024, shards_bytes=64 * 1024 * 1024))
    uri = moto.make_bucket("bench-sync")
    store = s3_store(moto, uri)
    manifest: Manifest = publish(store, "fuel", 1, saved, Spec(scale=1.0))
    total = manifest.total_bytes
    shards = sum(1 for f in manifest.files if "variables.data" in f.path)
    print(f"sync: {total / 1e6:.0f} MB in {len(manifest.files)} files ({shards} variable shards), loopback moto S3")
    # Exactly what `plantserve sidecar` uses, with its default settings.
    settings = Settings(store=uri, models=("fuel",), model_base_path=tmp, model_config_file=tmp / "unused",
                        s3_endpoint_url=moto.endpoint)
    sidecar_store = open_store(uri, s3=s3_options(settings))
    env = {**os.environ, **moto.env}
    ours, theirs = [], []
    for attempt in range(2):
        dest = tmp / f"aws-{attempt}"
        started = time.monotonic()
        subprocess.run([str(Path(sys.executable).parent / "aws"), "s3", "sync", f"{uri}/fuel/1", str(dest),
                        "--endpoint-url", moto.endpoint, "--only-show-errors"], check=True, env=env)
        theirs.append(time.monotonic() - started)
        shutil.rmtree(dest)
        model_dir = tmp / f"ours-{attempt}"
        started = time.monotonic()
        Downloader(sidecar_store, "fuel", model_dir, concurrency=settings.download_concurrency).fetch(manifest)
        ours.append(time.monotonic() - started)
        shutil.rmtree(model_dir)
    peer, mine = min(theirs), min(ours)
    print(f"  {'':44} {'aws s3 sync':>18} {'plantserve':>18} {'ratio':>10}")
    _row("seconds (best of 2; ours includes sha256)", f"{peer:.2f}", f"{mine:.2f}", f"{peer / mine:.2f}x")
    _row("MB/s", f"{total / 1e6 / peer:.0f}", f"{total / 1e6 / mine:.0f}", f"{peer / mine:.2f}x")
    _row("verified against the manifest", "no", "yes", "")
    shutil.rmtree(saved)


def bench_swap_and_ttl(tmp: Path, moto) -> None:
    from labkit.pods import Load, Pod, pod_env, s3_store
    from labkit.savedmodels import FEATURES, Spec, build, manifest_for, publish
    from labkit.procs import wait_until

    # Cycle k publishes a good version 2k (promoted) and a failing one 2k+1 (rolled back to 2k).
    cycles = _swap_cycles()
    good = {2 * k: Spec(scale=float(2 * k)) for k in range(1, cycles + 1)}
    failing = {2 * k + 1: Spec(scale=float(2 * k + 1), fail_above=100.0) for k in range(1, cycles + 1)}
    specs = {1: Spec(scale=1.0), **good, **failing}
    saved = {v: build(tmp / f"m{v}", s) for v, s in specs.items()}
    uri = moto.make_bucket("bench-swap")
    store = s3_store(moto, uri)
    publish(store, "fuel", 1, saved[1], specs[1])
    # Upload every later version now, without its manifest (invisible until then): during the
    # measurement only the manifest is written, so the benchmark process's own uploads do not
    # compete with its load generator.
    manifests = {}
    for v in sorted(specs)[1:]:
        manifests[v] = manifest_for("fuel", v, saved[v], specs[v])
        for f in manifests[v].files:
            store.upload_file(f"fuel/{v}/{f.path}", saved[v] / f.path)
    # Production defaults (latency ratio 1.5, slack 2 ms, 60 probe requests) except a 0.5 s poll.
    args = ["--s3-endpoint-url", moto.endpoint, "--poll-interval-seconds", "0.5", "--rollback-min-requests", "20"]
    pod = Pod("bench", tmp / "pod", uri, "fuel", args, pod_env(moto))
    rollouts: list[Window] = []
    rollbacks: list[Window] = []
    steadies: list[Window] = []
    lives: list[tuple[float, dict[str, float], dict]] = []
    try:
        pod.start()
        with Load(pod.grpc_port, threads=2) as load:
            time.sleep(2)  # warm-up, not measured
            for version in sorted(good):
                with Window(load, steadies):
                    time.sleep(3)  # a steady window before each cycle: a fixed duration, not a sync wait
                with Window(load, rollouts):
                    store.write_bytes(f"fuel/{version}/manifest.json", manifests[version].to_json().encode())
                    written = time.monotonic()  # the publish moment
                    m = pod.wait_stable(version, timeout=180)
                    live = time.monotonic() - written
                    wait_until(lambda: load.versions[-1] == version, what=f"load on version {version}")
                    time.sleep(1)  # a second of traffic after the swap belongs to the window
                steps_seconds = m["last_rollout"]["steps_seconds"]
                lives.append((live, {k: v for k, v in steps_seconds.items() if isinstance(v, (int, float))},
                              steps_seconds.get("probe", {})))
                with Window(load, rollbacks):
                    store.write_bytes(f"fuel/{version + 1}/manifest.json",
                                      manifests[version + 1].to_json().encode())
                    pod.wait_stable(version + 1, timeout=180)
                    bad = {f: [200.0] for f in FEATURES}
                    with Load(pod.grpc_port, inputs=bad, threads=1, pause_seconds=0.02):  # ~10% of requests fail
                        pod.wait_stable(version, timeout=120)
                    wait_until(lambda: load.versions[-1] == version, what=f"load back on version {version}")
                    time.sleep(1)
        steady = [x for w in steadies for x in w.latencies]
        base = _p99(steady)
        print(f"swap under load: 2 closed-loop gRPC clients on label stable; steady p99 {base:.2f} ms "
              f"({len(steady)} requests in 3 s before each cycle); {cycles} cycles of a complete rollout "
              f"then an automatic rollback")
        print(f"  {'':44} {'target':>18} {'plantserve':>18} {'ratio':>10}")
        for name, windows in (("complete rollout", rollouts), ("automatic rollback", rollbacks)):
            pooled = [x for w in windows for x in w.latencies]
            fails = sum(w.failures for w in windows)
            _row(f"{name}: failed requests", "0", f"{fails} of {len(pooled) + fails}", "")
            _row(f"{name}: p99 ms, all cycles (vs steady)", f"<= {2 * base:.2f}", f"{_p99(pooled):.2f}",
                 f"{_p99(pooled) / base:.2f}x")
            each = ", ".join(f"{_p99(w.latencies) / base:.2f}x" for w in windows)
            _row(f"{name}: p99 per cycle (vs steady)", "", "", each)
        live, steps, probe = sorted(lives, key=lambda x: x[0])[len(lives) // 2]
        print(f"time to live (manifest written -> promoted), median of {len(lives)}: {live:.2f} s "
              f"(all: {', '.join(f'{x[0]:.2f}' for x in lives)} s; poll interval 0.5 s; latency probe 60 requests "
              f"per version: candidate p99 {probe.get('candidate_p99_ms')} ms vs stable "
              f"{probe.get('stable_p99_ms')} ms)")
        detect = live - sum(steps.values())
        for step, seconds in [("detect", detect), *steps.items()]:
            _row(f"  {step}", "", f"{seconds:.3f} s", f"{seconds / live:.0%}")
    except Exception:
        if pod.sidecar is not None:
            print("sidecar log tail:\n" + "\n".join(pod.sidecar.output().splitlines()[-30:]))
        raise
    finally:
        pod.stop()


class Window:
    """The load's latencies and failures between entering and leaving; appended to ``into``."""

    def __init__(self, load, into: list) -> None:
        self.load, self.into = load, into
        self.latencies: list[float] = []
        self.failures = 0

    def __enter__(self) -> "Window":
        self._mark, self._fail0 = len(self.load.latencies_ms), len(self.load.failures)
        return self

    def __exit__(self, *exc) -> None:
        self.latencies = self.load.latencies_ms[self._mark:]
        self.failures = len(self.load.failures) - self._fail0
        self.into.append(self)


def main() -> None:
    from labkit.moto import start_moto
    from labkit.procs import environ

    tmp = Path(tempfile.mkdtemp(prefix="bench-sidecar-"))
    moto = start_moto(tmp)
    try:
        with environ(moto.env):
            bench_sync(tmp, moto)
            bench_swap_and_ttl(tmp, moto)
    finally:
        moto.proc.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
