"""A policy scan with checkov (PyPI; its Kubernetes, Dockerfile and GitHub Actions checks) over every
ci/ rendering, both kustomize overlays, docker/ and .github/. Each finding is fixed, or is a deliberate
exception listed with its reason in the chart README's "Policy scan exceptions" table (the allowlist).
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest

from tests.chart.charts import CHART, SCENARIOS, run, template_text, tool
from tests.support import REPO

README = CHART / "README.md"
FRAMEWORKS = {"kubernetes": None, "dockerfile": REPO / "docker", "github_actions": REPO / ".github"}


def allowlist() -> dict[str, str]:
    """check id -> reason, from the README table between the policy-exceptions markers."""
    text = README.read_text()
    table = text[text.index("<!-- policy-exceptions:begin -->"):text.index("<!-- policy-exceptions:end -->")]
    rows = re.findall(r"^\| `(CKV\w+)` \| [^|]+ \| (.+) \|$", table, re.M)
    assert rows, "the README's policy exceptions table is empty or malformed"
    return dict(rows)


@functools.lru_cache(maxsize=None)
def _scan(framework: str, directory: str) -> tuple[tuple[str, str, str], ...]:
    result = run([tool("checkov"), "-d", directory, "--framework", framework, "--compact", "--quiet",
                  "--output", "json", "--skip-download"], check=False)
    assert result.returncode in (0, 1), f"checkov failed ({result.returncode}):\n{result.stderr[-3000:]}"
    reports = json.loads(result.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    for report in reports:
        assert not report.get("summary", {}).get("parsing_errors"), f"checkov could not parse: {report['summary']}"
    return tuple((f["check_id"], f["resource"], f["file_path"]) for report in reports
                 for f in report.get("results", {}).get("failed_checks", []))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    for values in SCENARIOS:
        (out / values.name).write_text(template_text([values]))
    for overlay in sorted((REPO / "k8s" / "overlays").iterdir()):
        (out / f"overlay-{overlay.name}.yaml").write_text(run([tool("kubectl"), "kustomize", str(overlay)]).stdout)
    return out


def findings(rendered: Path) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for framework, directory in FRAMEWORKS.items():
        found += _scan(framework, str(directory or rendered))
    return found


def test_every_finding_is_fixed_or_an_explained_exception(rendered: Path) -> None:
    allowed = allowlist()
    unexplained = sorted({f for f in findings(rendered) if f[0] not in allowed})
    assert not unexplained, ("checkov findings that are neither fixed nor listed (with a reason) in the chart "
                             f"README's policy exceptions: {unexplained}")


def test_no_exception_is_stale(rendered: Path) -> None:
    fired = {check for check, _resource, _path in findings(rendered)}
    stale = sorted(set(allowlist()) - fired)
    assert not stale, f"listed as exceptions but no longer reported (remove them from the README): {stale}"


def test_the_scan_sees_the_chart(rendered: Path) -> None:
    """Not vacuous: a privileged container added through values is reported."""
    bad = rendered.parent / "bad"
    bad.mkdir(exist_ok=True)
    (bad / "bad.yaml").write_text(template_text([SCENARIOS[0]], sets=["securityContext.privileged=true",
                                                                      "securityContext.runAsNonRoot=false"]))
    checks = {check for check, _r, _p in _scan("kubernetes", str(bad))}
    assert "CKV_K8S_16" in checks  # privileged containers
