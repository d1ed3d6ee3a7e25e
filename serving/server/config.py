"""The ``ModelServerConfig`` the server runs with, and TF Serving's validation of a model list.

Validation (``server_core.cc``), each INVALID_ARGUMENT with TF Serving's words:
- a name listed twice;
- a ``base_path`` that is neither absolute nor a URI;
- no ``model_platform``, or a platform other than ``tensorflow``.

>>> cfg = single_model_config("fuel", "/store/fuel")
>>> validate_config_list(cfg.model_config_list)
"""
from __future__ import annotations

import re

from serving.protocol.messages import ModelServerConfig
from serving.server.status import Code, ServingError

__all__ = ["single_model_config", "validate_config_list", "ModelServerConfig"]

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def single_model_config(name: str, base_path: str) -> ModelServerConfig:
    """What ``--model_name``/``--model_base_path`` mean (``BuildSingleModelConfig``)."""
    config = ModelServerConfig()
    config.model_config_list.config.add(name=name, base_path=base_path, model_platform="tensorflow")
    return config


def _is_relative(path: str) -> bool:
    return not _URI.match(path) and not path.startswith("/")


def _platform(cfg) -> str:
    if cfg.model_type != 0:
        if cfg.model_platform:
            raise ServingError(Code.INVALID_ARGUMENT, "Illegal setting both ModelServerConfig::model_type "
                               "(deprecated) and ModelServerConfig::model_platform.")
        if cfg.model_type == 1:  # ModelType.TENSORFLOW
            return "tensorflow"
        raise ServingError(Code.INVALID_ARGUMENT, f"ModelServerConfig::model_type choice {cfg.model_type} not supported.")
    if not cfg.model_platform:
        raise ServingError(Code.INVALID_ARGUMENT, "Illegal setting neither ModelServerConfig::model_type "
                           "(deprecated) nor ModelServerConfig::model_platform.")
    return cfg.model_platform


def validate_config_list(config_list) -> None:
    names: set[str] = set()
    for cfg in config_list.config:
        if cfg.name in names:
            raise ServingError(Code.INVALID_ARGUMENT, f"Illegal to list model {cfg.name} multiple times in config list")
        names.add(cfg.name)
    for cfg in config_list.config:
        if _is_relative(cfg.base_path):
            raise ServingError(Code.INVALID_ARGUMENT, f"Expected model {cfg.name} to have an absolute path or URI; "
                               f"got base_path()={cfg.base_path}")
    for cfg in config_list.config:
        platform = _platform(cfg)
        if platform != "tensorflow":
            raise ServingError(Code.INVALID_ARGUMENT, f"Model {cfg.name} requests unsupported platform {platform}")
