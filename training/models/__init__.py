"""The plant models. Each is a :class:`~training.models.base.Task`: data, network, training,
serving signatures and evaluation of one model."""
from __future__ import annotations

from .base import Task, TaskData

__all__ = ["Task", "TaskData", "get_task"]


def get_task(name: str) -> Task:
    if name == "fuel":
        from .fuel import FuelTask

        return FuelTask()
    if name == "defect":
        from .defect import DefectTask

        return DefectTask()
    raise ValueError(f"unknown model {name!r}: choose fuel or defect")
