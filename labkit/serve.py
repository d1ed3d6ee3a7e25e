"""Start ``plantserve serve`` on free loopback ports for client tests and benchmarks.

The model config assigns the ``stable`` label (as the sidecar does in a fleet), which needs
``--allow_version_labels_for_unavailable_models`` at first start-up, exactly as on TF Serving.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

from labkit.procs import PLANTSERVE, Proc, free_port, port_open, wait_until

__all__ = ['Served', 'write_model_config', 'start_serve', 'MONITORING_PATH']

MONITORING_PATH = "/monitoring/prometheus/metrics"


@dataclasses.dataclass
class Served:
    proc: Proc
    grpc_port: int
    rest_port: int

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def rest_target(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    def stop(self) -> None:
        self.proc.stop()

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def write_model_config(path: Path, store: Path, models: Sequence[str], label_version: int | None = 1) -> Path:
    blocks = []
    for name in models:
        labels = f' version_labels {{ key: "stable" value: {label_version} }}' if label_version else ""
        blocks.append(f'config {{ name: "{name}" base_path: "{Path(store, name).resolve()}" '
                      f'model_platform: "tensorflow"{labels} }}')
    path.write_text("model_config_list {\n  " + "\n  ".join(blocks) + "\n}\n")
    return path


def start_serve(workdir: Path, store: Path, models: Sequence[str] = ("fuel",), *, label_version: int | None = 1,
                monitoring: bool = False, extra: Sequence[str] = (), timeout: float = 180.0,
                name: str = "serve") -> Served:
    workdir.mkdir(parents=True, exist_ok=True)
    grpc_port, rest_port = free_port(), free_port()
    config = write_model_config(workdir / f"{name}-models.config", store, models, label_version)
    args = [*PLANTSERVE, "serve", f"--port={grpc_port}", f"--rest_api_port={rest_port}",
            f"--model_config_file={config}", "--allow_version_labels_for_unavailable_models=true", *extra]
    if monitoring:
        mon = workdir / f"{name}-monitoring.config"
        mon.write_text(f'prometheus_config {{ enable: true, path: "{MONITORING_PATH}" }}\n')
        args.append(f"--monitoring_config_file={mon}")
    proc = Proc(args, workdir / f"{name}-{grpc_port}.log")

    try:
        wait_until(lambda: not proc.alive() or (port_open(grpc_port) and port_open(rest_port)), timeout=timeout,
                   interval=0.2, what=f"plantserve serve on {grpc_port}/{rest_port}")
    except BaseException:
        proc.stop()
        raise
    if not proc.alive():
        proc.stop()
        raise RuntimeError(f"plantserve serve exited {proc.popen.returncode}:\n{proc.output()[-3000:]}")
    return Served(proc, grpc_port, rest_port)
