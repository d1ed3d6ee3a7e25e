"""A pod's volumes as directories under a temp root, and each container's mounts as a path map.

- ``emptyDir``: an empty directory; ``configMap`` and ``secret``: their keys written as files (the
  ``items`` selection and ``defaultMode`` applied); ``projected``: each source in turn, a service
  account token written as a throwaway JWT-shaped string; ``persistentVolumeClaim``: an empty dir.
- A container sees a volume at its ``mountPath`` (with ``subPath``); ``PathMap.local`` turns an
  absolute path inside the container into the local one (longest mount first, as the kernel does).

Example::

    >>> m = PathMap({"/models": Path("/t/v/models"), "/": Path("/t/rootfs/c")})
    >>> str(m.local("/models/models.config")), str(m.local("/etc/x"))
    ('/t/v/models/models.config', '/t/rootfs/c/etc/x')
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Callable

__all__ = ["PathMap", "materialise", "mounts_of"]

Lookup = Callable[[str], dict[str, bytes]]


@dataclasses.dataclass
class PathMap:
    mounts: dict[str, Path]

    def local(self, path: str) -> Path:
        for mount in sorted(self.mounts, key=len, reverse=True):
            if path == mount or path.startswith(mount.rstrip("/") + "/"):
                rest = path[len(mount):].lstrip("/")
                return self.mounts[mount] / rest if rest else self.mounts[mount]
        raise AssertionError(f"{path} is not under any mount of the container: {sorted(self.mounts)}")

    def rewrite(self, text: str) -> str:
        """Every absolute path in ``text`` that lies under a mount (not ``/`` itself) made local, in one
        pass (a local path is never rewritten again)."""
        mounts = sorted((m.rstrip("/") for m in self.mounts if m != "/"), key=len, reverse=True)
        if not mounts:
            return text
        pattern = re.compile(r"(?<![\w./-])(" + "|".join(re.escape(m) for m in mounts) + r")(?=$|[/\s\"',:;=])")
        local = {m.rstrip("/"): str(p) for m, p in self.mounts.items()}
        return pattern.sub(lambda match: local[match.group(1)], text)


def _write(dest: Path, files: dict[str, bytes], items: list[dict] | None, mode: int) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    chosen = {i["key"]: i["path"] for i in items} if items else {k: k for k in files}
    for key, rel in chosen.items():
        if key not in files:
            raise AssertionError(f"key {key!r} missing from the object mounted at {dest}")
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[key])
        path.chmod(mode)


def materialise(root: Path, volumes: list[dict], config_maps: Lookup, secrets: Lookup,
                pod_name: str, namespace: str) -> dict[str, Path]:
    """Create every volume of the pod; returns name -> local directory."""
    out: dict[str, Path] = {}
    for vol in volumes:
        dest = root / "volumes" / vol["name"]
        if "emptyDir" in vol or "persistentVolumeClaim" in vol:
            dest.mkdir(parents=True, exist_ok=True)
        elif "configMap" in vol:
            spec = vol["configMap"]
            _write(dest, config_maps(spec["name"]), spec.get("items"), spec.get("defaultMode", 0o644))
        elif "secret" in vol:
            spec = vol["secret"]
            _write(dest, secrets(spec["secretName"]), spec.get("items"), spec.get("defaultMode", 0o644))
        elif "projected" in vol:
            mode = vol["projected"].get("defaultMode", 0o644)
            for source in vol["projected"]["sources"]:
                if "serviceAccountToken" in source:
                    _write(dest, {"token": b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2ln"},
                           [{"key": "token", "path": source["serviceAccountToken"]["path"]}], mode)
                elif "configMap" in source:
                    _write(dest, config_maps(source["configMap"]["name"]), source["configMap"].get("items"), mode)
                elif "secret" in source:
                    _write(dest, secrets(source["secret"]["name"]), source["secret"].get("items"), mode)
                elif "downwardAPI" in source:
                    fields = {"metadata.name": pod_name, "metadata.namespace": namespace}
                    for item in source["downwardAPI"]["items"]:
                        _write(dest, {"v": fields[item["fieldRef"]["fieldPath"]].encode()},
                               [{"key": "v", "path": item["path"]}], mode)
                else:
                    raise AssertionError(f"projected source not supported here: {source}")
        else:
            raise AssertionError(f"volume type not supported by the as-deployed test: {vol}")
        out[vol["name"]] = dest
    return out


def mounts_of(container: dict, volumes: dict[str, Path], rootfs: Path) -> PathMap:
    """The container's view: its own root filesystem dir, plus each volume at its mountPath."""
    mounts = {"/": rootfs}
    rootfs.mkdir(parents=True, exist_ok=True)
    for m in container.get("volumeMounts", []):
        local = volumes[m["name"]]
        if m.get("subPath"):
            local = local / m["subPath"]
            local.mkdir(parents=True, exist_ok=True)
        mounts[m["mountPath"]] = local
    return PathMap(mounts)

