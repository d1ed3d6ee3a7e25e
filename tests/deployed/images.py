"""Local stand-ins for the images a rendered pod names.

- ``ghcr.io/plantserve/plantserve`` (sidecar, CLI): a virtualenv that holds exactly what
  ``docker/plantserve.Dockerfile`` installs (its ``pip install '.[EXTRAS]'`` line), with the image's
  ``ENV`` and ``ENTRYPOINT``. An import the image lacks fails here as it would in the pod. The venv is
  cached under ``.cache/deployed/`` by the Dockerfile line and pyproject.toml; plantserve itself is
  reinstalled from the checkout once per session (not editable: the image copies the code).
- ``tensorflow/serving`` (any tag or digest): ``plantserve serve``, the project's TF Serving stand-in,
  run with the container's own command-line flags (``tensorflow_model_server ARGS``).

Example::

    >>> dockerfile_extras(REPO / "docker" / "plantserve.Dockerfile") != ()
    True
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support import REPO

__all__ = ["Image", "image_for", "dockerfile_extras", "image_env", "sidecar_venv"]

PLANTSERVE_DOCKERFILE = REPO / "docker" / "plantserve.Dockerfile"
CACHE = REPO / ".cache" / "deployed"
_INSTALL = re.compile(r"pip install\s+['\"]?\.\[(?P<extras>[\w,-]+)\]['\"]?")
_PIP = re.compile(r"pip install --upgrade (pip==[\w.]+)")


@dataclasses.dataclass(frozen=True)
class Image:
    """How to run a container of this image here: ``entrypoint`` unless the pod gives ``command``;
    ``commands`` maps a command name the pod may use to a local executable. ``env`` is the image's own
    (container paths, mapped like the pod's); ``local_env`` is how the stand-in runs here (never mapped)."""

    name: str
    entrypoint: tuple[str, ...]
    commands: dict[str, tuple[str, ...]]
    env: dict[str, str]
    local_env: dict[str, str]
    workdir: str

    def argv(self, command: list[str] | None, args: list[str]) -> list[str]:
        if command:
            head = self.commands.get(command[0])
            if head is None:
                raise AssertionError(f"{self.name}: no local stand-in for command {command[0]!r}; "
                                     f"known: {sorted(self.commands)}")
            return [*head, *command[1:], *args]
        return [*self.entrypoint, *args]


def dockerfile_extras(dockerfile: Path) -> tuple[str, ...]:
    found = _INSTALL.findall(dockerfile.read_text())
    if not found:
        raise AssertionError(f"{dockerfile}: no `pip install '.[EXTRAS]'` line")
    return tuple(found[-1].split(","))


def image_env(dockerfile: Path) -> dict[str, str]:
    """``ENV`` of the final stage (``k=v`` pairs, continuation lines joined)."""
    text = dockerfile.read_text().replace("\\\n", " ")
    final = text[text.rindex("\nFROM "):]
    env: dict[str, str] = {}
    for line in final.splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def _key(extras: tuple[str, ...]) -> str:
    pyproject = (REPO / "pyproject.toml").read_text()
    digest = hashlib.sha256(f"{sys.version}\n{extras}\n{pyproject}".encode()).hexdigest()
    return digest[:16]


def sidecar_venv() -> Path:
    """The cached venv of the plantserve image, with this checkout's plantserve installed into it."""
    extras = dockerfile_extras(PLANTSERVE_DOCKERFILE)
    venv = CACHE / f"plantserve-image-{_key(extras)}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = _PIP.findall(PLANTSERVE_DOCKERFILE.read_text())
        _pip(python, "install", "--quiet", "--upgrade", *(pip[-1:] or ["pip"]))
        _pip(python, "install", "--quiet", f"{REPO}[{','.join(extras)}]")
        (venv / ".complete").touch()
    _pip(python, "install", "--quiet", "--no-deps", "--force-reinstall", str(REPO))
    return venv


def _pip(python: Path, *args: str) -> None:
    result = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args],
                            capture_output=True, text=True, timeout=1800,
                            env={**os.environ, "PIP_NO_INPUT": "1"})
    if result.returncode != 0:
        raise AssertionError(f"pip {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def image_for(image: str, sidecar: Path) -> Image:
    """The stand-in for ``image`` (``repo:tag`` or ``repo@sha256:...``)."""
    repository = image.split("@", 1)[0].rsplit(":", 1)[0] if "/" in image else image
    if repository.endswith("/plantserve"):
        env = image_env(PLANTSERVE_DOCKERFILE)
        env.pop("PATH", None)
        python = str(sidecar / "bin" / "python3")
        return Image(image, (str(sidecar / "bin" / "plantserve"),),
                     {"python3": (python,), "python": (python,), "plantserve": (str(sidecar / "bin" / "plantserve"),)},
                     env, {"PATH": f"{sidecar / 'bin'}:/usr/local/bin:/usr/bin:/bin"}, "/tmp")
    if repository == "tensorflow/serving":
        serve = (sys.executable, "-m", "serving.cli", "serve")
        return Image(image, serve, {"tensorflow_model_server": serve}, {"MODEL_BASE_PATH": "/models", "MODEL_NAME": "model"},
                     {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(REPO)}, "/")
    raise AssertionError(f"no local stand-in for image {image}")
