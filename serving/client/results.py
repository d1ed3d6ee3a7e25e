"""What ``metadata()`` and ``status()`` return, the same for gRPC and REST.

>>> spec = TensorSpec("DT_FLOAT", (-1, 28, 28, 1))
>>> spec.numpy_dtype
dtype('float32')
"""
from __future__ import annotations

import dataclasses

import numpy as np

from serving.client.errors import CODE_NAMES, InvalidInput
from serving.protocol import messages
from serving.protocol.apis import MODEL_STATES
from serving.protocol.dtypes import numpy_dtype
from serving.protocol.framework import DATA_TYPES

__all__ = ["Prediction", "TensorSpec", "Signature", "ModelMetadata", "VersionStatus"]

_DT_NAMES = {v: k for k, v in DATA_TYPES.items()}
_STATE_NAMES = {v: k for k, v in MODEL_STATES.items()}


class Prediction(dict):
    """What ``predict`` returns: output name -> array, plus ``version``, the version that answered.

    Over gRPC the server echoes it (``PredictResponse.model_spec.version``), so a caller on the
    ``stable`` label can log which version served each answer. TF Serving's REST answer carries no
    model spec: there ``version`` is the one asked for by number, else None.
    """

    def __init__(self, outputs: dict[str, np.ndarray], version: int | None = None) -> None:
        super().__init__(outputs)
        self.version = version

    def __repr__(self) -> str:
        return f"Prediction({dict.__repr__(self)}, version={self.version})"


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    dtype: str
    shape: tuple[int, ...] | None  # None: unknown rank

    @property
    def numpy_dtype(self) -> np.dtype:
        try:
            return numpy_dtype(DATA_TYPES[self.dtype])
        except KeyError:
            raise InvalidInput(f"TensorFlow dtype {self.dtype} is not supported by the plantserve client") from None

    @classmethod
    def from_proto(cls, info) -> "TensorSpec":
        shape = None if info.tensor_shape.unknown_rank else tuple(d.size for d in info.tensor_shape.dim)
        return cls(_DT_NAMES.get(info.dtype, str(info.dtype)), shape)

    @classmethod
    def from_json(cls, info: dict) -> "TensorSpec":
        shape_json = info.get("tensor_shape", {})
        shape = None if shape_json.get("unknown_rank") else tuple(int(d["size"]) for d in shape_json.get("dim", []))
        return cls(info.get("dtype", "DT_INVALID"), shape)


@dataclasses.dataclass(frozen=True)
class Signature:
    name: str
    method_name: str
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]


@dataclasses.dataclass(frozen=True)
class ModelMetadata:
    name: str
    version: int | None
    signatures: dict[str, Signature]

    @classmethod
    def from_proto(cls, response) -> "ModelMetadata":
        sigmap = messages.SignatureDefMap()
        any_value = response.metadata.get("signature_def")
        if any_value is not None:
            sigmap.ParseFromString(any_value.value)
        signatures = {
            key: Signature(key, sig.method_name,
                           {k: TensorSpec.from_proto(v) for k, v in sig.inputs.items()},
                           {k: TensorSpec.from_proto(v) for k, v in sig.outputs.items()})
            for key, sig in sigmap.signature_def.items()}
        version = response.model_spec.version.value if response.model_spec.HasField("version") else None
        return cls(response.model_spec.name, version, signatures)

    @classmethod
    def from_json(cls, body: dict) -> "ModelMetadata":
        spec = body.get("model_spec", {})
        defs = body.get("metadata", {}).get("signature_def", {}).get("signature_def", {})
        signatures = {
            key: Signature(key, sig.get("method_name", ""),
                           {k: TensorSpec.from_json(v) for k, v in sig.get("inputs", {}).items()},
                           {k: TensorSpec.from_json(v) for k, v in sig.get("outputs", {}).items()})
            for key, sig in defs.items()}
        version = spec.get("version")
        return cls(spec.get("name", ""), int(version) if version not in (None, "") else None, signatures)


@dataclasses.dataclass(frozen=True)
class VersionStatus:
    version: int
    state: str
    error_code: str
    error_message: str

    @classmethod
    def from_proto(cls, status) -> "VersionStatus":
        number = status.status.error_code
        code = CODE_NAMES[number] if 0 <= number < len(CODE_NAMES) else str(number)
        return cls(status.version, _STATE_NAMES.get(status.state, str(status.state)), code,
                   status.status.error_message)

    @classmethod
    def from_json(cls, status: dict) -> "VersionStatus":
        detail = status.get("status", {})
        return cls(int(status.get("version", 0)), status.get("state", "UNKNOWN"),
                   str(detail.get("error_code", "OK")), detail.get("error_message", ""))
