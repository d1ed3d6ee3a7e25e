"""Every store URI the chart's scenarios, the overlays and the docs show is one the sidecar accepts: it
goes through the sidecar's real settings and ``open_store``, so a documented scheme that the code
refuses (``gs://`` once was) fails here instead of crash-looping a pod."""
from __future__ import annotations

import argparse
import re

import pytest

from serving.sidecar.settings import Settings, add_arguments
from serving.store import open_store
from tests.deployed.rendering import deployments, render
from tests.deployed.stores import sidecar_arg
from tests.support import REPO

DOCS = [REPO / "README.md", REPO / "helm" / "plantserve" / "README.md", REPO / "helm" / "plantserve" / "values.yaml",
        REPO / "k8s" / "README.md"]
_URI = re.compile(r"\b(?:s3|gs|file)://[A-Za-z0-9_.\-/]+")


def documented_uris() -> list[str]:
    found = {m.group(0).rstrip("/.") for doc in DOCS for m in _URI.finditer(doc.read_text())}
    for deployment in deployments():
        spec = render(deployment).serving_deployment()["spec"]["template"]["spec"]
        found.add(sidecar_arg(next(c for c in spec["initContainers"] if c["name"] == "sidecar"), "store"))
    return sorted(found)


def test_the_docs_show_every_scheme() -> None:
    schemes = {uri.split("://")[0] for uri in documented_uris()}
    assert schemes >= {"s3", "gs", "file"}, schemes


@pytest.mark.parametrize("uri", documented_uris())
def test_the_sidecar_accepts_every_documented_store(uri: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    settings = Settings.from_args(parser.parse_args(["--store", uri, "--models", "fuel",
                                                     "--model-base-path", str(tmp_path)]), env={})
    store = open_store(settings.store)  # parses the URI and builds the client; no request is made
    assert store.uri.rstrip("/") == uri.rstrip("/") or uri.startswith("file://")
