"""Table rendering for plantserve predict."""
from __future__ import annotations

import numpy as np

from serving.client.table import render


def test_rows_align_and_vectors_are_shortened():
    text = render({"probabilities": np.full((2, 12), 0.5, np.float32), "class_id": np.array([3, 1])},
                  {"image": ["a.png", "bb.png"]})
    lines = text.splitlines()
    assert lines[0].split() == ["#", "image", "probabilities", "class_id"]
    assert lines[1].startswith("0  a.png ") and lines[1].endswith("3") and "…" in lines[1]
    assert len(lines) == 3


def test_bytes_are_decoded():
    assert "scratch" in render({"classes": np.array([[b"scratch"]], dtype=object)})
