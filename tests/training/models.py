"""The trained Keras model of a published version, rebuilt from its weights file, for tests that
compare the exported signatures with computations outside the serving path."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from training.export import WEIGHTS_PATH
from training.models import get_task
from training.models.base import Task, TaskData
from training.settings import TrainSettings


def rebuild(store: Path, model_name: str, version: int = 1) -> tuple[Task, TaskData, Any]:
    """(task, its data with the default seed, the Keras model with ``version``'s weights)."""
    task = get_task(model_name)
    data = task.load_data(TrainSettings(model=model_name, store=str(store)))
    model = task.build(data, adapt=True)
    raw = (Path(store) / model_name / str(version) / WEIGHTS_PATH).read_bytes()
    with np.load(io.BytesIO(raw)) as npz:
        model.set_weights([npz[f"arr_{i}"] for i in range(len(npz.files))])
    for layer in model.layers:  # Normalization recomputes mean/variance from its restored state
        if hasattr(layer, "finalize_state") and layer.built:
            layer.finalize_state()
    return task, data, model
