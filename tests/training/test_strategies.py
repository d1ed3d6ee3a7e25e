"""Acceptance 6 of the training issue: incremental warm starts, finetune freezes the feature layers."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from serving.store import open_store
from serving.store.repository import ModelRepository
from training.export import WEIGHTS_PATH
from training.pipeline import train_and_publish
from training.settings import TrainSettings


def _weights(store: Path, model: str, version: int) -> list[np.ndarray]:
    raw = open_store(str(store)).read_bytes(f"{model}/{version}/{WEIGHTS_PATH}")
    with np.load(io.BytesIO(raw)) as npz:
        return [npz[f"arr_{i}"] for i in range(len(npz.files))]


def _settings(store: Path, model: str, strategy: str, epochs: int) -> TrainSettings:
    return TrainSettings(model=model, store=str(store), strategy=strategy, epochs=epochs, force=True,
                         quiet=True, samples_per_class=100)


def test_incremental_starts_from_the_parents_weights(model_store_copy: Path) -> None:
    sink = io.StringIO()
    parent_mae = ModelRepository(open_store(str(model_store_copy)), "fuel").manifest(1).metrics["mae"]
    warm = train_and_publish(_settings(model_store_copy, "fuel", "incremental", 2), sink)
    scratch = train_and_publish(_settings(model_store_copy, "fuel", "full", 2), sink)
    assert warm.manifest.parent_version == 1 and warm.manifest.strategy == "incremental"
    # from scratch the first epoch's MSE is in the hundreds; warm-started it is near the parent's
    assert warm.epoch_losses[0] < scratch.epoch_losses[0] / 10, (warm.epoch_losses, scratch.epoch_losses)
    # the warm start keeps the parent's in-graph normalisation, so quality carries over (gate passes)
    assert warm.metrics["mae"] <= parent_mae * 1.10, (warm.metrics["mae"], parent_mae)
    assert warm.manifest.forced is None


def test_finetune_leaves_frozen_layers_unchanged(model_store_copy: Path) -> None:
    result = train_and_publish(_settings(model_store_copy, "fuel", "finetune", 5), io.StringIO())
    parent, child = _weights(model_store_copy, "fuel", 1), _weights(model_store_copy, "fuel", result.version)
    # fuel weights in Keras order: normalization (mean, variance, count), dense_64 (kernel, bias) frozen;
    # dense_32 and the mpg head trained
    frozen, head = slice(0, 5), slice(5, None)
    assert all(np.array_equal(a, b) for a, b in zip(parent[frozen], child[frozen]))
    assert any(not np.array_equal(a, b) for a, b in zip(parent[head], child[head]))


def test_finetune_defect_keeps_convolutions(model_store_copy: Path) -> None:
    result = train_and_publish(_settings(model_store_copy, "defect", "finetune", 1), io.StringIO())
    parent, child = _weights(model_store_copy, "defect", 1), _weights(model_store_copy, "defect", result.version)
    assert all(np.array_equal(a, b) for a, b in zip(parent[:4], child[:4]))  # conv_32, conv_64 kernels+biases
    assert any(not np.array_equal(a, b) for a, b in zip(parent[4:], child[4:]))


def test_warm_start_refuses_a_parent_of_another_graph_version(model_store_copy: Path) -> None:
    import json

    from training.strategies import StrategyError

    path = model_store_copy / "fuel" / "1" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["training"]["graph_version"] = 1  # as published before the log-scaled features
    path.write_text(json.dumps(manifest))
    with pytest.raises(StrategyError, match="graph version 1.*use --strategy full"):
        train_and_publish(_settings(model_store_copy, "fuel", "incremental", 1), io.StringIO())
