"""The kind workflow cannot run here (no Docker, no cluster), so check what can be checked: it
parses, uses files that exist, its values render with the chart, the objects it waits for are the
ones the chart creates, and the Dockerfiles are pinned and non-root."""
from __future__ import annotations

import re

import kubernetes_validate
import yaml

from tests.chart.charts import CHART, KUBE_VERSIONS, REPO, helm, parse

WORKFLOW = REPO / ".github" / "workflows" / "chart.yaml"


def steps() -> dict[str, str]:
    wf = yaml.safe_load(WORKFLOW.read_text())
    assert {"manifests", "kind"} <= set(wf["jobs"])
    return {s.get("name", s.get("uses", "")): s.get("run", "") for s in wf["jobs"]["kind"]["steps"]}


def heredoc(script: str, marker: str) -> str:
    m = re.search(rf"<<'{marker}'\n(.*?)\n{marker}\n", script, re.S)
    assert m, f"no {marker} heredoc"
    return m.group(1)


def test_workflow_values_render_and_validate(tmp_path):
    s = steps()
    values = tmp_path / "kind-values.yaml"
    values.write_text(heredoc(s["Install the chart (MinIO, CPU serving)"], "VALUES"))
    for revision, extra in ((1, []), (2, ["--set", "training.job.enabled=true"])):
        objs = parse(helm("template", "plantserve", str(CHART), "-n", "plantserve", "-f", str(values), *extra).stdout)
        names = {(o["kind"], o["metadata"]["name"]) for o in objs}
        assert ("Deployment", "plantserve-minio") in names and ("Deployment", "plantserve") in names
        for o in objs:
            kubernetes_validate.validate(o, KUBE_VERSIONS[0], strict=True)
    # The Job the workflow waits for is the one the chart names for revision 2.
    upgraded = parse(helm("template", "plantserve", str(CHART), "-n", "plantserve", "-f", str(values),
                          "--set", "training.job.enabled=true", "--is-upgrade").stdout)
    job_names = [o["metadata"]["name"] for o in upgraded if o["kind"] == "Job"]
    assert job_names == ["plantserve-train-fuel-r1"]  # helm template always renders revision 1
    assert "job/plantserve-train-fuel-r2" in s["Train fuel into MinIO (the chart's training Job)"]


def test_workflow_bucket_job_validates():
    job = yaml.safe_load(heredoc(steps()["Create the bucket"], "JOB"))
    kubernetes_validate.validate(job, KUBE_VERSIONS[-1], strict=True)


def test_workflow_builds_the_image_the_chart_uses():
    wf = WORKFLOW.read_text()
    assert "docker build -f docker/plantserve.Dockerfile" in wf
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert f"{values['sidecar']['image']['repository']}:{chart['appVersion']}" in wf


def test_dockerfiles_are_pinned_and_non_root():
    for name in ("plantserve.Dockerfile", "train.Dockerfile"):
        text = (REPO / "docker" / name).read_text()
        bases = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
        assert len(bases) == 2 and len(set(bases)) == 1, f"{name}: build and final stage share one base: {bases}"
        assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", bases[0]), bases[0]
        users = re.findall(r"^USER (\S+)$", text, re.M)
        assert users and users[-1] == "65532:65532", name
        assert "latest" not in text and not re.search(r"^ADD https?://", text, re.M)
        assert (REPO / "docker" / f"{name}.dockerignore").exists()
