"""TF Serving's config files: text-format protos, read with TF Serving's error wording.

>>> from serving.protocol.messages import MonitoringConfig
>>> parse_text("prometheus_config { enable: true }", MonitoringConfig).prometheus_config.enable
True
>>> to_text(MonitoringConfig(prometheus_config={"path": "/m"}))
'prometheus_config {\\n  path: "/m"\\n}\\n'
"""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from google.protobuf import text_format
from google.protobuf.message import Message

__all__ = ["ConfigFileError", "parse_text", "read_text_file", "to_text"]

M = TypeVar("M", bound=Message)


class ConfigFileError(ValueError):
    """A config file that is missing or not a valid text proto. ``str()`` is TF Serving's status text;
    ``parse_error`` is protobuf's own line (``Error parsing text-format NAME: L:C: detail``), which TF
    Serving writes to stderr before the status, or None when the file could not be read."""

    def __init__(self, status: str, parse_error: str | None = None) -> None:
        super().__init__(status)
        self.parse_error = parse_error


def parse_text(text: str, cls: type[M]) -> M:
    """Raises ``text_format.ParseError`` (a ``ValueError``) with the line and column."""
    return text_format.Parse(text, cls())


def read_text_file(path: str | Path, cls: type[M]) -> M:
    """Read a text proto as TF Serving's ``ParseProtoTextFile`` does, with its error wording."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigFileError(f"NOT_FOUND: {path}; {exc.strerror or exc}") from exc
    try:
        return parse_text(text, cls)
    except text_format.ParseError as exc:
        detail = str(exc).split(" : ", 1)[-1]
        raise ConfigFileError(f"INVALID_ARGUMENT: Invalid protobuf file: '{path}'",
                              f"Error parsing text-format {cls.DESCRIPTOR.full_name}: {exc.GetLine()}:"
                              f"{exc.GetColumn()}: {detail}") from exc


def to_text(message: Message) -> str:
    return text_format.MessageToString(message)
