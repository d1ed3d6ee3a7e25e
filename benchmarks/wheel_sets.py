"""Size on disk of what ``pip install .[extra]`` puts in a venv, for bench_lean_sidecar.

- ``fresh_venv_install``: a new venv, ``pip install REPO[extra]`` into it, the size it added and each
  distribution's size (from its RECORD, compiled bytecode included);
- ``closure_mib``: the same sum over the distributions a pyproject's extra pulls in, as they are
  installed in *this* environment (how the ``.[full]`` set is measured without downloading it).
"""
from __future__ import annotations

import importlib.metadata as md
import json
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

__all__ = ["fresh_venv_install", "closure_mib", "dist_bytes"]

MIB = 1024 * 1024
_SIZES = """
import importlib.metadata as md, json
out = {}
for dist in md.distributions():
    size = 0
    for f in dist.files or ():
        try:
            size += dist.locate_file(f).stat().st_size
        except OSError:
            pass
    out[dist.metadata["Name"]] = size
print(json.dumps(out))
"""


def dist_bytes(dist: md.Distribution) -> int:
    total = 0
    for f in dist.files or ():
        try:
            total += Path(dist.locate_file(f)).stat().st_size
        except OSError:
            pass
    return total


def _tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _site_packages(venv: Path) -> Path:
    return next(venv.glob("lib/python*/site-packages"))


def fresh_venv_install(repo: Path, extra: str, venv: Path) -> tuple[float, list[tuple[str, float]]]:
    """MiB that ``pip install repo[extra]`` added to a fresh venv, and (distribution, MiB) largest first."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = _site_packages(venv)

    def sizes() -> dict[str, int]:
        out = subprocess.run([str(python), "-c", _SIZES], capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    baseline, baseline_bytes = sizes(), _tree_bytes(site)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{repo}[{extra}]"], check=True)
    added = (_tree_bytes(site) - baseline_bytes) / MIB
    top = sorted(((name, size / MIB) for name, size in sizes().items() if name not in baseline), key=lambda x: -x[1])
    return added, top


def closure_mib(pyproject: Path, extra: str) -> tuple[float, list[tuple[str, float]]]:
    """MiB of the distributions ``pyproject``'s ``[extra]`` pulls in, as installed here (plantserve's own
    files not counted); (distribution, MiB) largest first."""
    project = tomllib.loads(pyproject.read_text())["project"]
    own = canonicalize_name(project["name"])
    pending = [Requirement(r) for r in project["dependencies"]]
    extras = {extra}
    seen: dict[str, int] = {}
    while extras:
        for name in list(extras):
            extras.discard(name)
            for text in project["optional-dependencies"].get(name, []):
                req = Requirement(text)
                if canonicalize_name(req.name) == own:
                    extras |= req.extras - {name}
                else:
                    pending.append(req)
    while pending:
        req = pending.pop()
        key = canonicalize_name(req.name)
        if key in seen:
            continue
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            continue  # a marker-only dependency of another platform
        seen[key] = dist_bytes(dist)
        for text in dist.requires or ():
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in (req.extras or {""})):
                pending.append(sub)
    top = sorted(((name, size / MIB) for name, size in seen.items()), key=lambda x: -x[1])
    return sum(seen.values()) / MIB, top
