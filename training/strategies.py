"""The three update strategies of the plant FAQ, applied to a freshly built model."""
from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np

from serving.store import Store

from .export import WEIGHTS_PATH

__all__ = ["apply_strategy", "StrategyError"]

log = logging.getLogger(__name__)


class StrategyError(ValueError):
    """The strategy cannot run against this store (for example no parent version)."""


def parent_weights(store: Store, model_name: str, version: int) -> list[np.ndarray]:
    raw = store.read_bytes(f"{model_name}/{version}/{WEIGHTS_PATH}")
    with np.load(io.BytesIO(raw)) as npz:
        return [npz[f"arr_{i}"] for i in range(len(npz.files))]


def apply_strategy(strategy: str, model: Any, feature_layers: list[Any], store: Store, model_name: str,
                   parent: int | None, graph_version: int) -> None:
    """``full``: nothing. ``incremental``: the parent's weights. ``finetune``: those, with the
    feature layers frozen. The model must be built (and compiled) already; it is recompiled
    after freezing so the change takes effect."""
    if strategy == "full":
        return
    if parent is None:
        raise StrategyError(f"--strategy {strategy} needs a published version of {model_name} to start from; "
                            "publish one with --strategy full first")
    from serving.store.repository import ModelRepository

    parent_graph = ModelRepository(store, model_name).manifest(parent).training.get("graph_version")
    if parent_graph != graph_version:
        raise StrategyError(f"{model_name} version {parent} was built with graph version {parent_graph}, this "
                            f"plantserve builds {graph_version} (different in-graph preprocessing): its weights "
                            "cannot warm-start this model; use --strategy full")
    weights = parent_weights(store, model_name, parent)
    current = model.get_weights()
    if [w.shape for w in weights] != [w.shape for w in current]:
        raise StrategyError(f"{model_name} version {parent} has a different architecture "
                            "(weight shapes differ): use --strategy full")
    model.set_weights(weights)
    # A Keras 3 Normalization layer computes with mean/variance tensors derived from its
    # adapt_* variables only in finalize_state(); set_weights() alone leaves them at 0 and 1.
    for layer in model.layers:
        if hasattr(layer, "finalize_state") and layer.built:
            layer.finalize_state()
    log.info("%s: warm-started from version %s", strategy, parent)
    if strategy == "finetune":
        for layer in feature_layers:
            layer.trainable = False
        model.compile_from_config(model.get_compile_config())
