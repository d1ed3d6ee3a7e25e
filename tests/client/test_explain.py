"""serving.client.explain: typed rows from explain and trust answers (pure; no server)."""
from __future__ import annotations

import numpy as np
import pytest

import serving.client.explain as explain
from serving.client.errors import InvalidInput
from serving.client.results import Prediction


def _image_answer() -> dict[str, np.ndarray]:
    names = np.array([[b"clean", b"scratch", b"pit"]] * 2, dtype=object)
    return {"class_id": np.array([1, 2]), "probabilities": np.array([[0.1, 0.8, 0.1], [0.2, 0.2, 0.6]], np.float32),
            "class_names": names, "explained_class": np.array([1, 0]),
            "explained_probability": np.array([0.8, 0.2], np.float32),
            "baseline_probability": np.array([0.3, 0.3], np.float32),
            "attributions": np.zeros((2, 4, 4, 1), np.float32), "completeness_error": np.array([0.001, -0.002]),
            "trust_distance": np.array([0.5, 3.0], np.float32), "trust_threshold": np.array([1.1, 1.1], np.float32),
            "trusted": np.array([True, False])}


def test_image_answers_become_map_explanations() -> None:
    rows = explain.parse_explanations(_image_answer(), version=3)
    assert rows.version == 3 and len(rows) == 2
    first, second = rows
    assert isinstance(first, explain.MapExplanation)
    assert (first.class_name, first.probability, first.explained_class_name) == ("scratch", pytest.approx(0.8), "scratch")
    assert second.class_name == "pit" and second.explained_class_name == "clean"  # a requested class
    assert second.attributions.shape == (4, 4, 1)
    assert second.trust == explain.Trust(3.0, pytest.approx(1.1), False)
    assert "UNLIKE TRAINING DATA" in str(second.trust) and str(first.trust).endswith("ok")


def test_answers_without_trust_or_of_another_kind_are_refused() -> None:
    answer = _image_answer()
    del answer["trusted"]
    with pytest.raises(InvalidInput, match="no trust outputs"):
        explain.parse_explanations(answer)
    with pytest.raises(InvalidInput, match="not an explain answer"):
        explain.parse_explanations({"trust_distance": np.ones(1), "trust_threshold": np.ones(1),
                                    "trusted": np.ones(1, bool)})


class _Recorder:
    """A client that records the predict calls and answers from canned outputs."""

    def __init__(self, answer: dict[str, np.ndarray]) -> None:
        self.answer, self.calls = answer, []

    def predict(self, model, inputs, **kwargs):
        self.calls.append((model, inputs, kwargs))
        wanted = kwargs.get("output_filter") or list(self.answer)
        return Prediction({k: v for k, v in self.answer.items() if k in wanted}, 7)


def test_a_requested_class_by_name_uses_explain_class_for_every_row() -> None:
    client = _Recorder(_image_answer())
    images = np.zeros((2, 4, 4, 1), np.float32)
    rows = explain.explain(client, "defect", {"image": images}, target_class="pit", label="stable")
    assert rows.version == 7
    (_, first, lookup), (_, second, call) = client.calls
    assert lookup["signature"] == "explain" and lookup["output_filter"] == ["class_names"]
    assert first["image"].shape == (1, 4, 4, 1)  # the class names come from one row
    assert call["signature"] == "explain_class" and call["label"] == "stable"
    assert second["class_id"].tolist() == [2, 2] and second["class_id"].dtype == np.int64
    with pytest.raises(InvalidInput, match="no class 'dent'"):
        explain.explain(client, "defect", images, target_class="dent")


def test_trust_rows() -> None:
    client = _Recorder(_image_answer())
    assert [t.trusted for t in explain.trust(client, "defect", np.zeros((2, 4, 4, 1), np.float32))] == [True, False]
    assert client.calls[0][2]["signature"] == "trust"
