"""Acceptance 5: the demo's steps in a shortened form, against a copy of the session's trained store,
with real processes on loopback; and Ctrl-C in the middle leaves no process and no half-written version."""
from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

from tests.demo.helpers import assert_no_children_left, version_dirs
from tests.support import PLANTSERVE, Proc, run_cli, wait_until

QUICK = ["--bench-seconds", "2", "--bench-warmup-seconds", "1", "--cars", "4", "--images", "5",
         "--ready-timeout-seconds", "240", "--rollout-timeout-seconds", "240"]


def test_demo_runs_every_step(model_store_copy: Path, tmp_path: Path) -> None:
    work = tmp_path / "demo"
    result = run_cli("demo", "--store", str(model_store_copy), "--work-dir", str(work), *QUICK, timeout=900)
    out = result.stdout
    assert result.returncode == 0, f"{out}\n{result.stderr[-5000:]}"
    for n in range(1, 11):
        assert f"[{n}/10]" in out
    # 2: both models reused from the store, and signed with the demo's throwaway key (published unsigned)
    assert "fuel: reusing version 1" in out and "defect: reusing version 1" in out
    for model in ("fuel", "defect"):
        assert f"{model}: signed version 1 with the demo's key (it was published unsigned)" in out
        assert (model_store_copy / model / "1" / "model.sig").is_file()
    assert (work / "signing" / "demo-signing-key.pem").is_file()
    # 4: the fuel table (gRPC and REST agree) and the defect table
    assert re.search(r"car\s+true mpg\s+gRPC mpg\s+REST mpg", out)
    rows = re.findall(r"^  (\S.*?)\s+(\d+\.\d)\s+(\d+\.\d)\s+(\d+\.\d)\s+(-?\d+\.\d)$", out, re.M)
    assert len(rows) >= 4 and all(g == r for _name, _true, g, r, _err in rows[:4])
    assert re.search(r"true class\s+gRPC class \(score\)\s+REST class \(score\)", out)
    # 5: two cars explained in mpg, two images with their overlay PNGs, one broken sensor flagged
    assert re.search(r"car\s+true mpg\s+mpg\s+baseline\s+top 3 contributions \(mpg\)", out)
    for label in ("scratch", "inclusion"):
        png = work / "explain" / f"{label}.explain.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and str(png) in out
    assert re.search(r"weight sensor stuck at 0: trust \S+ / \S+ UNLIKE TRAINING DATA", out)
    # 6: a new fuel version, its rollout steps, promoted with no failed request
    new = int(re.search(r"published fuel version (\d+)", out).group(1))
    assert new == 2
    steps = ["downloaded", "verified", "loaded", "golden ok", "latency ok", "promoted"]
    positions = [out.index(f"s  {step}") for step in steps]
    assert positions == sorted(positions)
    assert "failed requests during the swap: 0" in out
    assert re.search(r"answered by v1 x\d+ -> v2 x\d+", out)
    assert f"predictions now come from version {new}" in out
    assert (model_store_copy / "fuel" / "2" / "model.sig").is_file()  # signed by training
    # 7: a tampered version (signed, then its largest file and the manifest changed) refused while stable answers
    assert "published fuel version 3: a copy of v2 signed with the demo's key" in out
    assert re.search(r"the sidecar refused version 3 \(signature\): refused \(tampered\)", out)
    assert "stable is still v2" in out
    assert "failed requests while the tampered version was refused: 0" in out
    assert version_dirs(model_store_copy, "fuel") == {1: True, 2: True, 3: True}
    # 9: the summary's versions table: fuel stable 2, previous 1, v3 in the store only
    assert re.search(r"^  fuel\s+2\s+1\s+1,2,3\s+1,2\s*$", out, re.M)
    # 8: the bench's JSON, PNG and CSV
    report = json.loads((work / "bench" / "fuel-grpc.json").read_text())
    assert report["ok"] > 0 and report["errors"] == {} and report["label"] == "stable"
    png = work / "bench" / "fuel-grpc.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(png) in out and "/monitoring/prometheus/metrics" in out
    # 10: serve, sidecar, both trainings... every child and its group are gone
    assert_no_children_left(out, expected_at_least=4)


def test_ctrl_c_while_training_leaves_nothing_behind(model_store_copy: Path, tmp_path: Path) -> None:
    work = tmp_path / "demo"
    demo = Proc([*PLANTSERVE, "demo", "--store", str(model_store_copy), "--work-dir", str(work), *QUICK],
                tmp_path / "demo.log")
    try:
        # The incremental training child is running: interrupt it mid-flight, as Ctrl-C in a terminal
        # does (SIGINT to the demo's foreground process group; its children have their own groups).
        wait_until(lambda: "training fuel for up to" in demo.output() or not demo.alive(), timeout=600,
                   interval=0.1, what="the incremental training to start")
        assert demo.alive(), demo.output()
        os.killpg(demo.popen.pid, signal.SIGINT)
        code = demo.popen.wait(120)
    finally:
        demo.stop()
    out = demo.log_path.read_text(errors="replace")
    assert code == 130, out
    assert "interrupted by SIGINT" in out and "[10/10] Shut down" in out
    assert_no_children_left(out, expected_at_least=3)  # sidecar, serve, train
    for model in ("fuel", "defect"):
        dirs = version_dirs(model_store_copy, model)
        assert all(dirs.values()), f"{model}: version dirs without a manifest: {dirs}"
    assert version_dirs(model_store_copy, "fuel") == {1: True}


def test_skip_train_with_an_empty_store_says_what_to_do(tmp_path: Path) -> None:
    result = run_cli("demo", "--store", str(tmp_path / "empty"), "--work-dir", str(tmp_path / "demo"),
                     "--skip-train", timeout=120)
    assert result.returncode == 1
    assert "fuel has no valid version" in result.stdout and "plantserve train fuel --store" in result.stdout
    assert "nothing was running" in result.stdout
