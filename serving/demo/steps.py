"""The demo, step by step (issue 6): train or reuse (every version signed, issue 13), start the stack,
predict, explain (issue 14), roll out a new version under traffic, refuse a tampered version under
traffic, bench, summarise, shut down. Every child process is stopped on the way out,
whatever happens, Ctrl-C included.
"""
from __future__ import annotations

import json
import logging
import platform
import subprocess
import time
from typing import Any, Callable, TextIO

from serving.client.errors import ClientError
from serving.server.flags import HOST_ENV
from serving.store import Store, StoreError
from serving.store.repository import ModelRepository

from .children import PLANTSERVE, Children
from .explanations import explain_step
from .interrupts import Interrupted, SignalGuard
from .predictions import Cars, defect_table, fuel_table, pick_cars, version_table
from .publish import Training, TrainingFailed, latest_versions, open_demo_store, train
from .settings import MODELS, DemoSettings
from .show import heading, ms, table
from .signing import DemoKey, sign_reused, tamper_step
from .stack import LOOPBACK, Stack, StackError
from .traffic import Traffic, TrafficStats
from .watch import RolloutFailed, RolloutWatch, follow

__all__ = ["Demo", "DemoError", "BadStore"]

log = logging.getLogger(__name__)


class DemoError(RuntimeError):
    """A step failed; the message says what to do."""


class BadStore(ValueError):
    """The --store URI cannot be used (exit code 2)."""


def poll_until(predicate: Callable[[], Any], timeout_seconds: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout_seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise DemoError(f"timed out after {timeout_seconds:g}s waiting for {what}")
        time.sleep(interval)


class Demo:
    def __init__(self, settings: DemoSettings, out: TextIO) -> None:
        self.settings = settings
        self.out = out
        self.started = time.monotonic()
        self.guard = SignalGuard()
        # The demo's servers are for this machine only: serve binds loopback (the sidecar gets --http-host).
        self.children = Children(settings.logs_dir, out, shield=self.guard.shielded, env={HOST_ENV: LOOPBACK})
        self.stack: Stack | None = None
        self.store: Store | None = None
        self.traffic: Traffic | None = None
        self.clients: list[Any] = []
        self.rollout: dict[str, Any] = {}
        self.bench: dict[str, Any] | None = None
        self.overlays: list[Any] = []
        self.failures: list[str] = []
        #: The throwaway signing key (step 1): training signs with it, the sidecar trusts it.
        self.key: DemoKey | None = None

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def step(self, number: int, title: str) -> None:
        heading(self.out, number, title, time.monotonic() - self.started)

    # -- the whole run ----------------------------------------------------------------------
    def run(self) -> int:
        code = 0
        with self.guard:
            try:
                self._steps()
                if self.failures:
                    code = 1
                    self.say("\nthe demo ran, but: " + "; ".join(self.failures))
            except Interrupted as exc:
                self.say(f"\n{exc}: shutting everything down")
                code = exc.exit_code
            except (StoreError, BadStore) as exc:
                self.say(f"\nplantserve demo: error: {exc}")
                code = 2
            except (DemoError, StackError, TrainingFailed, RolloutFailed) as exc:
                self.say(f"\nplantserve demo: error: {exc}")
                code = 1
            except ClientError as exc:
                self.say(f"\nplantserve demo: error: a request failed: {exc}")
                code = 1
            finally:
                with self.guard.shielded(drop=True):
                    self._shutdown()
        return code

    def _steps(self) -> None:
        s = self.settings
        self.step(1, "Environment")
        self.say(f"  python {platform.python_version()}, store {s.store}, work dir {s.work_dir}")
        s.work_dir.mkdir(parents=True, exist_ok=True)
        self.key = DemoKey.ensure(s.work_dir)
        self.say(f"  signing key (throwaway, this work dir's): {self.key.private}")
        self.step(2, "Models in the store")
        self._models()
        self.step(3, "Start plantserve serve and the sidecar")
        self.stack = Stack(s, self.children, self.out)
        self.stack.start()
        self.step(4, "Predictions over gRPC and REST (label stable)")
        cars = self._predict()
        self.step(5, "Explanations and input trust (explain and trust signatures)")
        self.overlays = explain_step(self.clients[0], cars, s.work_dir / "explain", self.say)
        self.step(6, "Publish a new fuel version (incremental) while requests flow")
        if s.skip_rollout:
            self.say("  skipped (--skip-rollout)")
        else:
            self._rollout(cars)
        self.step(7, "Signed models: a version tampered with after signing is refused")
        self._tampered(cars)
        self.step(8, f"Bench: {s.bench_seconds:g}s closed loop over gRPC")
        self._bench()
        self.step(9, "Summary")
        self._summary()
        if s.keep_running:
            self._keep_running()

    def _keep_running(self) -> None:
        """Until Ctrl-C, which is the normal end here (exit 0), or until a stack process dies."""
        assert self.stack is not None
        self.say("\n  the stack keeps running (--keep-running): press Ctrl-C to stop it")
        try:
            while all(c.alive() for c in (self.stack.server, self.stack.sidecar) if c is not None):
                time.sleep(0.5)  # waiting for the user, not for a condition
        except Interrupted as exc:
            self.say(f"\n  {exc}: stopping the stack")
            return
        raise DemoError(f"a stack process exited; see {self.settings.logs_dir}")

    # -- step 2 -----------------------------------------------------------------------------
    def _models(self) -> dict[str, int]:
        try:
            store = self.store = open_demo_store(self.settings)
        except ValueError as exc:
            raise BadStore(str(exc)) from exc
        found = latest_versions(store, MODELS)
        versions: dict[str, int] = {}
        for model in MODELS:
            version = found[model]
            if version is not None:
                metric = ModelRepository(store, model).manifest(version).primary_metric
                self.say(f"  {model}: reusing version {version} from {store.uri} "
                         f"({metric.name} {metric.value:.3f})")
            elif self.settings.skip_train:
                raise DemoError(f"{model} has no valid version in {store.uri} and --skip-train is set: "
                                f"run without --skip-train, or `plantserve train {model} --store {self.settings.store}`")
            else:
                self.say(f"  {model}: no valid version in {store.uri}: training one (strategy full)")
                version = train(self.settings, self.children, store, model, "full", self.out)
                self.say(f"  {model}: trained and published version {version} (signed by training)")
            why = sign_reused(store, model, version, self.key)
            if why:
                self.say(f"  {model}: signed version {version} with the demo's key ({why}): the sidecar "
                         "loads only versions that verify")
            versions[model] = version
        return versions

    # -- step 4 -----------------------------------------------------------------------------
    def _predict(self) -> Cars:
        from serving.client import PredictClient, RestClient

        assert self.stack is not None
        grpc_client = PredictClient(self.stack.grpc_target, timeout_seconds=10.0)
        rest_client = RestClient(self.stack.rest_url, timeout_seconds=10.0)
        self.clients += [grpc_client, rest_client]
        cars = pick_cars(self.settings.cars)
        text, _ = fuel_table(grpc_client, rest_client, cars)
        self.say(f"  fuel: real cars from the held-out Auto MPG rows\n{text}")
        text, correct = defect_table(grpc_client, rest_client, self.settings.images)
        self.say(f"\n  defect: generated inspection images (Classify API, tf.Example), "
                 f"{correct}/{self.settings.images} right\n{text}")
        return cars

    # -- step 6 -----------------------------------------------------------------------------
    def _rollout(self, cars: Cars) -> None:
        assert self.stack is not None
        s, stack = self.settings, self.stack
        stable = stack.status()["models"]["fuel"]["stable"]
        self.traffic = Traffic(stack.grpc_target, "fuel", cars.row(0)).start()
        poll_until(lambda: self.traffic.stats().ok or self.traffic.stats().failed, 30, "the first request")
        self.say(f"  requests flowing: one client predicting {cars.names[0]!r} on label stable (now v{stable})")
        assert self.store is not None
        training = Training(s, self.children, self.store, "fuel", "incremental", self.out)
        try:
            watch = RolloutWatch("fuel", after=stable)
            published: list[int] = []

            def check_training(wait: bool = False) -> None:
                if not published and (wait or training.done()):
                    published.append(training.wait())
                    self.say(f"  published fuel version {published[0]}; the sidecar polls the store every "
                             f"{s.poll_interval_seconds:g}s")

            self.say("  the sidecar's rollout steps, live from its /status (seconds since training started):")
            took = follow(watch, stack.status, self.out, s.train_timeout_seconds + s.rollout_timeout_seconds,
                          tick=check_training)
            check_training(wait=True)  # the sidecar can promote before the training process has exited
            new = published[0]
            if new != watch.version:
                raise DemoError(f"the sidecar promoted fuel version {watch.version}, but training published {new}: "
                                "is another publisher writing to this store?")
        finally:
            training.abort()
        traffic = self.traffic
        poll_until(lambda: any(v == new and n >= 5 for v, n in traffic.stats().versions), 30,
                   f"answers from version {new} on label stable")
        stats = traffic.stop()
        self.traffic = None
        self.rollout = {"old": stable, "new": new, "seconds": took, "stats": stats}
        self.say(f"\n  requests on label stable during training and rollout: {stats.ok} answered, "
                 f"answered by {stats.answered_by()}")
        self.say(f"  failed requests during the swap: {stats.failed}"
                 + (f" ({stats.failures})" if stats.failed else ""))
        if stats.failed:
            self.failures.append(f"{stats.failed} requests failed during the rollout: {stats.failures}")
        text, same = version_table(self.clients[0], cars, stable, new)
        self.say(f"\n  predictions now come from version {new}:\n{text}")
        if not same:
            self.failures.append(f"label stable does not answer like version {new}")

    # -- step 7 -----------------------------------------------------------------------------
    def _tampered(self, cars: Cars) -> None:
        assert self.stack is not None and self.store is not None and self.key is not None
        traffic = self.traffic = Traffic(self.stack.grpc_target, "fuel", cars.row(0)).start()
        poll_until(lambda: traffic.stats().ok or traffic.stats().failed, 30, "the first request")
        try:
            failed = tamper_step(self.store, self.key, self.stack.status, traffic, self.say,
                                 self.settings.rollout_timeout_seconds)
        except RuntimeError as exc:  # the traffic is stopped at shutdown
            raise DemoError(str(exc)) from exc
        self.traffic = None  # tamper_step stopped it
        if failed:
            self.failures.append(f"{failed} requests failed while the tampered version was refused")

    # -- step 8 -----------------------------------------------------------------------------
    def _bench(self) -> None:
        assert self.stack is not None
        s = self.settings
        s.bench_dir.mkdir(parents=True, exist_ok=True)
        name = "fuel-grpc"
        argv = [*PLANTSERVE, "bench", "fuel", "--target", self.stack.grpc_target, "--mode", "closed",
                "--concurrency", str(s.bench_concurrency), "--workers", "1", "--label", "stable",
                "--warmup-seconds", f"{s.bench_warmup_seconds:g}", "--duration-seconds", f"{s.bench_seconds:g}",
                "--out", str(s.bench_dir), "--name", name]
        child = self.children.start("bench", argv, relay=True)
        self.say(f"  plantserve bench  pid {child.pid}  (log {child.log_path})")
        try:
            code = child.wait(s.bench_warmup_seconds + s.bench_seconds + 120)
        except subprocess.TimeoutExpired as exc:
            raise DemoError(f"the bench did not finish; see {child.log_path}") from exc
        if code != 0:
            raise DemoError(f"plantserve bench exited {code}; its log {child.log_path} ends with:\n{child.tail()}")
        json_path = s.bench_dir / f"{name}.json"
        self.bench = json.loads(json_path.read_text())
        self.bench["json"] = str(json_path)

    # -- step 9 -----------------------------------------------------------------------------
    def _summary(self) -> None:
        assert self.stack is not None
        stack = self.stack
        models = stack.status()["models"]
        rows = [[m, st.get("labels", {}).get("stable"), st.get("labels", {}).get("previous"),
                 ",".join(map(str, st.get("versions_in_store", []))), ",".join(map(str, st.get("versions_on_disk", [])))]
                for m, st in models.items()]
        self.say("  versions (labels as the server has them)\n"
                 + table(["model", "stable", "previous", "in store", "on disk"], rows))
        lat_rows = []
        if self.bench is not None:
            b = self.bench
            lat = b["latency_ms"]
            lat_rows.append([f"bench fuel gRPC c={b['concurrency']}", f"{b['throughput_per_second']:.0f}/s",
                             *(ms(lat[k]) for k in ("p50", "p90", "p99", "p99.9", "max")),
                             sum(b["errors"].values())])
        stats: TrafficStats | None = self.rollout.get("stats")
        if stats is not None:
            p = stats.percentiles()
            lat_rows.append(["during rollout, 1 client", f"{stats.ok} req",
                             *(ms(p[k]) for k in ("p50", "p90", "p99", "p99.9", "max")), stats.failed])
        self.say("\n  latency (ms)\n" + table(["load", "throughput", "p50", "p90", "p99", "p99.9", "max", "errors"],
                                              lat_rows))
        where = [
            ["server metrics (Prometheus)", stack.server_metrics_url],
            ["sidecar metrics (Prometheus)", stack.sidecar_url + "/metrics"],
            ["sidecar status (JSON)", stack.sidecar_url + "/status"],
            ["gRPC / REST", f"{stack.grpc_target} / {stack.rest_url}"],
        ]
        if self.bench is not None:
            where += [["bench report (JSON)", self.bench["json"]], ["bench plots (PNG)", self.bench.get("png") or "-"],
                      ["bench samples (CSV)", self.bench["samples_csv"]]]
        where += [["explanation overlay (PNG)", str(p)] for p in self.overlays]
        where.append(["logs", str(self.settings.logs_dir)])
        self.say("\n  where things are" + ("" if self.settings.keep_running else
                                           " (the URLs live until the shutdown below; --keep-running keeps them)")
                 + "\n" + table(["what", "where"], where))

    # -- step 10 ----------------------------------------------------------------------------
    def _shutdown(self) -> None:
        self.step(10, "Shut down")
        if self.traffic is not None:
            self.traffic.stop()
            self.traffic = None
        for client in self.clients:
            client.close()
        self.clients.clear()
        running = [f"{c.name} (pid {c.pid})" for c in self.children.running]
        self.children.stop_all()
        self.say("  stopped " + ", ".join(running) if running else "  nothing was running")
        self.say(f"  demo finished in {time.monotonic() - self.started:.0f}s")
