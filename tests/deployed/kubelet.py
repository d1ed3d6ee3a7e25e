"""Run one rendered pod as local processes, the way the kubelet would, and watch it.

What is taken from the rendering unchanged: every container's command and args, its env (``value``,
``valueFrom`` Secret/ConfigMap keys and the downward API, ``$(VAR)`` expansion), its volumes and
mounts, the start order (plain init containers run to completion; native sidecars, init containers
with ``restartPolicy: Always``, start in order and each gates the next on its startupProbe; then the
app containers start together) and its probes with their thresholds.

What is mapped, because this is one machine and not a pod (each mapping is the same for every
container, so the pod's own wiring is what gets tested):

- **the pod's network namespace**: every declared ``containerPort`` becomes a free loopback port; an
  argument or env value naming the port (after ``=`` or ``:``) names the local one, and probes and
  Services resolve port names and numbers through the same map;
- **mount paths**: absolute paths under a container's mounts point into the temp root (``volumes.py``);
- **names outside the pod** (a store's host): ``Cluster.hosts`` rewrites ``host:port`` to a local front;
- **what the platform injects**: ``Cluster.env`` (an identity webhook's credentials, a CA bundle), and
  loopback bind addresses (``PLANTSERVE_SERVE_HOST``, ``PLANTSERVE_HTTP_HOST``) so nothing listens
  beyond this machine.
"""
from __future__ import annotations

import dataclasses
import http.client
import logging
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

from tests.deployed.images import image_for
from tests.deployed.rendering import Rendering
from tests.deployed.volumes import PathMap, materialise, mounts_of
from tests.support import free_port

__all__ = ["Cluster", "Pod", "ContainerFailed", "parse_quantity"]

log = logging.getLogger(__name__)
_PORT_REF = re.compile(r"(?<=[=:])(\d{2,5})\b")
_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
LOOPBACK_ENV = {"PLANTSERVE_SERVE_HOST": "127.0.0.1", "PLANTSERVE_HTTP_HOST": "127.0.0.1"}


class ContainerFailed(AssertionError):
    """A container exited, or a probe did not pass within its rendered thresholds."""


@dataclasses.dataclass
class Cluster:
    """What exists in the cluster besides the rendering: Secrets created beforehand, DNS names
    outside the pod (``host:port`` -> ``127.0.0.1:port``), and env the platform injects."""

    secrets: dict[str, dict[str, bytes]] = dataclasses.field(default_factory=dict)
    #: ConfigMaps every namespace has (kube-root-ca.crt).
    config_maps: dict[str, dict[str, bytes]] = dataclasses.field(default_factory=dict)
    hosts: dict[str, str] = dataclasses.field(default_factory=dict)
    env: dict[str, str] = dataclasses.field(default_factory=dict)


def parse_quantity(text: str | int) -> int:
    """Kubernetes memory quantity -> bytes (``512Mi``, ``4Gi``, ``1G``, ``1e9``)."""
    text = str(text)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(float(text))


@dataclasses.dataclass
class Running:
    spec: dict
    paths: PathMap
    argv: list[str]
    env: dict[str, str]
    popen: subprocess.Popen
    log_path: Path
    peak_rss: int = 0

    @property
    def name(self) -> str:
        return self.spec["name"]

    def output(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]


class Pod:
    def __init__(self, rendering: Rendering, pod_template: dict, cluster: Cluster, root: Path,
                 sidecar_venv: Path, pod_name: str = "plantserve-0") -> None:
        self.rendering = rendering
        self.template = pod_template
        self.spec = pod_template["spec"]
        self.labels = pod_template["metadata"].get("labels", {})
        self.cluster = cluster
        self.root = root
        self.sidecar_venv = sidecar_venv
        self.name = pod_name
        self.namespace = rendering.namespace
        self.ports: dict[int, int] = {}
        for c in self._all_containers():
            for p in c.get("ports", []):
                self.ports.setdefault(int(p["containerPort"]), free_port())
        self.running: dict[str, Running] = {}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="rss", daemon=True)
        self.volumes = materialise(root, self.spec.get("volumes", []), self._config_map,
                                   self._secret, self.name, self.namespace)

    # ----- objects the pod refers to --------------------------------------------------------------
    def _all_containers(self) -> list[dict]:
        return [*self.spec.get("initContainers", []), *self.spec.get("containers", [])]

    def container(self, name: str) -> dict:
        for c in self._all_containers():
            if c["name"] == name:
                return c
        raise AssertionError(f"no container {name}")

    def _config_map(self, name: str) -> dict[str, bytes]:
        if name in self.cluster.config_maps and not self.rendering.find("ConfigMap", name):
            return self.cluster.config_maps[name]
        return self.rendering.config_map_data(name)

    def _secret(self, name: str) -> dict[str, bytes]:
        data = self.rendering.secret_data(name)
        if data is None:
            data = self.cluster.secrets.get(name)
        if data is None:
            raise AssertionError(f"Secret {name} is neither rendered nor provided by the test's cluster fixtures")
        return data

    def local_port(self, container: dict, port: int | str) -> int:
        """A probe's or Service's port (a number, or a name of ``container``'s ports) -> the local port."""
        if isinstance(port, str) and not port.isdigit():
            named = [p for p in container.get("ports", []) if p.get("name") == port]
            if not named:
                raise AssertionError(f"container {container['name']} has no port named {port!r}")
            port = named[0]["containerPort"]
        port = int(port)
        if port not in self.ports:
            raise AssertionError(f"port {port} is not declared by any container of the pod "
                                 "(nothing in the pod is known to listen there)")
        return self.ports[port]

    # ----- environment and arguments ----------------------------------------------------------------
    def _env(self, c: dict, image_env: dict[str, str]) -> dict[str, str]:
        env = dict(image_env)
        for entry in c.get("env", []):
            if "value" in entry:
                value = _VAR_REF.sub(lambda m: env.get(m.group(1), m.group(0)), str(entry["value"]))
            else:
                value = self._value_from(entry["valueFrom"], entry["name"])
            if value is not None:
                env[entry["name"]] = value
        for source in c.get("envFrom", []):
            if "secretRef" in source:
                env.update({k: v.decode() for k, v in self._secret(source["secretRef"]["name"]).items()})
            elif "configMapRef" in source:
                env.update({k: v.decode() for k, v in
                            self.rendering.config_map_data(source["configMapRef"]["name"]).items()})
        return env

    def _value_from(self, ref: dict, name: str) -> str | None:
        if "secretKeyRef" in ref:
            key, optional = ref["secretKeyRef"]["key"], ref["secretKeyRef"].get("optional", False)
            data = self._secret(ref["secretKeyRef"]["name"])
            if key not in data:
                if optional:
                    return None
                raise AssertionError(f"env {name}: key {key!r} missing from Secret {ref['secretKeyRef']['name']}")
            return data[key].decode()
        if "configMapKeyRef" in ref:
            return self.rendering.config_map_data(ref["configMapKeyRef"]["name"])[ref["configMapKeyRef"]["key"]].decode()
        if "fieldRef" in ref:
            fields = {"metadata.name": self.name, "metadata.namespace": self.namespace,
                      "status.podIP": "127.0.0.1", "spec.nodeName": "local-node",
                      "spec.serviceAccountName": self.spec.get("serviceAccountName", "default")}
            return fields[ref["fieldRef"]["fieldPath"]]
        raise AssertionError(f"env {name}: valueFrom {ref} is not supported by the as-deployed test")

    def _map(self, text: str, paths: PathMap) -> str:
        for host, local in self.cluster.hosts.items():
            text = text.replace(host, local)
        text = paths.rewrite(text)
        return _PORT_REF.sub(lambda m: str(self.ports.get(int(m.group(1)), m.group(1))), text)

    # ----- processes --------------------------------------------------------------------------------
    def _start(self, c: dict) -> Running:
        image = image_for(c["image"], self.sidecar_venv)
        paths = mounts_of(c, self.volumes, self.root / "rootfs" / c["name"])
        env = self._env(c, image.env)
        expand = lambda s: self._map(_VAR_REF.sub(lambda m: env.get(m.group(1), m.group(0)), str(s)), paths)  # noqa: E731
        argv = image.argv([expand(a) for a in c.get("command", [])] or None, [expand(a) for a in c.get("args", [])])
        env = {k: self._map(v, paths) for k, v in env.items()}
        env.update(image.local_env)
        env.update(self.cluster.env)
        env.update(LOOPBACK_ENV)
        workdir = c.get("workingDir", image.workdir)
        cwd = paths.local(workdir)
        cwd.mkdir(parents=True, exist_ok=True)
        log_path = self.root / f"{c['name']}.log"
        with open(log_path, "wb") as out:
            popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     start_new_session=True)
        running = Running(c, paths, argv, env, popen, log_path)
        self.running[c["name"]] = running
        log.info("started %s: %s", c["name"], " ".join(argv))
        return running

    def start(self, init_timeout_seconds: float = 120.0) -> None:
        """Init containers in order (each native sidecar gated on its startupProbe), then the app
        containers; returns once they are all started (probes are checked by the caller)."""
        self._sampler.start()
        for c in self.spec.get("initContainers", []):
            running = self._start(c)
            if c.get("restartPolicy") == "Always":
                if "startupProbe" in c:
                    self.wait_probe(c["name"], "startupProbe")
                continue
            code = _reap(running, init_timeout_seconds)
            if code is None:
                raise ContainerFailed(f"init container {c['name']} did not finish in {init_timeout_seconds}s:\n"
                                      f"{running.output()}")
            if code != 0:
                raise ContainerFailed(f"init container {c['name']} exited {code}:\n{running.output()}")
        for c in self.spec.get("containers", []):
            self._start(c)

    def check_alive(self) -> None:
        for r in self.running.values():
            restarts = r.spec.get("restartPolicy") == "Always" or r.spec in self.spec.get("containers", [])
            code = r.popen.poll()
            if restarts and code is not None:
                raise ContainerFailed(f"container {r.name} exited {code} (the kubelet would restart it: a crash "
                                      f"loop):\n{r.output()}")

    def stop(self) -> None:
        self._stop.set()
        for r in reversed(list(self.running.values())):
            if r.popen.poll() is None:
                try:
                    os.killpg(r.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for r in self.running.values():
            if _reap(r, 30) is None:
                os.killpg(r.popen.pid, signal.SIGKILL)
                _reap(r, 10)

    # ----- probes -----------------------------------------------------------------------------------
    def probe_once(self, container: str, kind: str) -> tuple[bool, str]:
        c = self.container(container)
        probe = c[kind]
        timeout = float(probe.get("timeoutSeconds", 1))
        try:
            if "httpGet" in probe:
                get = probe["httpGet"]
                port = self.local_port(c, get["port"])
                if get.get("scheme", "HTTP") == "HTTPS":
                    conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                        "127.0.0.1", port, timeout=timeout, context=ssl._create_unverified_context())  # noqa: S323 - kubelet skips verification
                else:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                try:
                    conn.request("GET", get.get("path", "/"), headers={h["name"]: h["value"]
                                                                      for h in get.get("httpHeaders", [])})
                    status = conn.getresponse().status
                finally:
                    conn.close()
                return 200 <= status < 400, f"HTTP {status}"
            if "tcpSocket" in probe:
                port = self.local_port(c, probe["tcpSocket"]["port"])
                with socket.create_connection(("127.0.0.1", port), timeout=timeout):
                    return True, "connected"
            if "grpc" in probe:
                import grpc

                port = self.local_port(c, probe["grpc"]["port"])
                with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                    check = channel.unary_unary("/grpc.health.v1.Health/Check")
                    answer = check(b"", timeout=timeout)
                return answer == b"\x08\x01", f"health {answer!r}"
            if "exec" in probe:
                r = self.running[container]
                image = image_for(c["image"], self.sidecar_venv)
                argv = image.argv([self._map(a, r.paths) for a in probe["exec"]["command"]], [])
                done = subprocess.run(argv, env=r.env, capture_output=True, timeout=timeout)
                return done.returncode == 0, f"exit {done.returncode}"
        except (OSError, http.client.HTTPException) as exc:
            return False, repr(exc)
        raise AssertionError(f"{container}: unsupported probe {probe}")

    def wait_probe(self, container: str, kind: str, limit_seconds: float | None = None) -> float:
        """Poll until the probe passes; fail after ``limit_seconds``, and for start-up and liveness probes
        after their rendered bound (initialDelaySeconds + periodSeconds x failureThreshold: then the
        kubelet restarts the container). A readiness probe that keeps failing restarts nothing, so only
        ``limit_seconds`` bounds it. Returns the seconds it took."""
        probe = self.container(container)[kind]
        bound = float("inf")
        if kind != "readinessProbe":
            bound = probe.get("initialDelaySeconds", 0) + probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
        if limit_seconds is not None:
            bound = min(bound, limit_seconds)
        assert bound < float("inf"), "a readiness wait needs limit_seconds"
        started = time.monotonic()
        last = "not run"
        while time.monotonic() - started < bound:
            self.check_alive()
            ok, last = self.probe_once(container, kind)
            if ok:
                return time.monotonic() - started
            time.sleep(min(0.25, probe.get("periodSeconds", 10)))
        raise ContainerFailed(f"{kind} of {container} did not pass within {bound:.0f}s (last: {last}):\n"
                              f"{self.running[container].output()}")

    # ----- memory -----------------------------------------------------------------------------------
    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for r in list(self.running.values()):
                rss = _group_rss(r.popen.pid)
                if rss > r.peak_rss:
                    r.peak_rss = rss

    def memory_limits(self) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for c in self._all_containers():
            limit = c.get("resources", {}).get("limits", {}).get("memory")
            out[c["name"]] = parse_quantity(limit) if limit is not None else None
        return out


def _reap(r: Running, timeout_seconds: float) -> int | None:
    """Wait for the container's main process, sampling its peak RSS every 5 ms meanwhile (a short-lived
    init container would slip between the background sampler's reads). None when it still runs at the
    deadline. (``wait4``'s ru_maxrss cannot be used: Linux counts the forking test process's RSS in it.)"""
    deadline = time.monotonic() + timeout_seconds
    while True:
        r.peak_rss = max(r.peak_rss, _hwm(r.popen.pid))
        code = r.popen.poll()
        if code is not None:
            return code
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)


def _hwm(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _group_rss(pgid: int) -> int:
    """Peak resident bytes (VmHWM) of every process in the process group (a container's processes)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of stat: pgrp
                continue
        except (OSError, IndexError, ValueError):
            continue
        total += _hwm(int(entry))
    return total
