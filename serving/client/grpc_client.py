"""``PredictClient``: TF Serving over gRPC, with no TensorFlow in the process.

>>> client = PredictClient("dns:///plantserve-grpc.plant.svc:8500", timeout_seconds=2.0)  # doctest: +SKIP
>>> client.predict("fuel", {"cylinders": [4.0], "displacement": [140.0], "horsepower": [86.0],
...                         "weight": [2790.0], "acceleration": [15.6], "model_year": [82.0],
...                         "origin": [1.0]})["mpg"]  # doctest: +SKIP
array([27.9], dtype=float32)
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

import grpc
import numpy as np

from serving.client.channel import open_channel
from serving.client.errors import InvalidInput, error_for_code
from serving.client.examples import Features, to_input
from serving.client.explain import ExplainMethods
from serving.client.inputs import Inputs, named_inputs, sole_input_name
from serving.client.results import ModelMetadata, Prediction, VersionStatus
from serving.client.settings import ClientSettings, ModelRef
from serving.protocol import messages
from serving.protocol.tensors import TensorError, to_ndarray, to_tensor_proto

__all__ = ["PredictClient", "METHODS", "fill_model_spec", "predict_request"]

log = logging.getLogger(__name__)

_PS = "/tensorflow.serving.PredictionService/"
#: method path -> (request class, response class)
METHODS: dict[str, tuple[type, type]] = {
    _PS + "Predict": (messages.PredictRequest, messages.PredictResponse),
    _PS + "Classify": (messages.ClassificationRequest, messages.ClassificationResponse),
    _PS + "Regress": (messages.RegressionRequest, messages.RegressionResponse),
    _PS + "GetModelMetadata": (messages.GetModelMetadataRequest, messages.GetModelMetadataResponse),
    "/tensorflow.serving.ModelService/GetModelStatus": (messages.GetModelStatusRequest,
                                                        messages.GetModelStatusResponse),
}


def fill_model_spec(spec: Any, ref: ModelRef, *, signature: bool = True) -> None:
    """Write ``ref`` into a ModelSpec: a version wins over a label; neither means latest."""
    spec.name = ref.name
    if ref.version is not None:
        spec.version.value = ref.version
    elif ref.label is not None:
        spec.version_label = ref.label
    if signature:
        spec.signature_name = ref.signature


def prediction_from(response: Any) -> Prediction:
    answered = response.model_spec.version.value if response.model_spec.HasField("version") else None
    try:
        return Prediction({name: to_ndarray(tensor) for name, tensor in response.outputs.items()}, answered)
    except TensorError as exc:
        raise InvalidInput(f"the server answered a tensor that cannot be decoded: {exc}") from exc


def predict_request(ref: ModelRef, named: dict[str, np.ndarray], output_filter: list[str] | None = None) -> Any:
    """The PredictRequest for named arrays (tensor_content encoding)."""
    request = messages.PredictRequest()
    fill_model_spec(request.model_spec, ref)
    for name, array in named.items():
        try:
            to_tensor_proto(array, proto=request.inputs[name])
        except TensorError as exc:
            raise InvalidInput(f"input {name!r}: {exc}") from exc
    if output_filter:
        request.output_filter.extend(output_filter)
    return request


class PredictClient(ExplainMethods):
    """One persistent channel to a TF Serving target; thread-safe; use as a context manager.

    ``predict``/``classify``/``regress``/``metadata``/``status`` address ``settings.default_label``
    (``"stable"``) unless ``version=`` or ``label=`` is given. Errors are :mod:`serving.client.errors`.
    """

    def __init__(self, target: str | ClientSettings, **settings: Any) -> None:
        self.settings = target if isinstance(target, ClientSettings) else ClientSettings(target=target, **settings)
        self._channel = open_channel(self.settings)
        self._stubs: dict[str, Callable] = {
            path: self._channel.unary_unary(path, request_serializer=req.SerializeToString,
                                            response_deserializer=resp.FromString)
            for path, (req, resp) in METHODS.items()}
        self._sole_inputs: dict[ModelRef, str] = {}
        self._lock = threading.Lock()

    # -- calls -------------------------------------------------------------------------------
    def predict(self, model: str, inputs: Inputs, *, version: int | None = None, label: str | None = None,
                signature: str | None = None, output_filter: list[str] | None = None,
                timeout: float | None = None) -> Prediction:
        """Run a predict signature; ``inputs`` is a dict of arrays or one array for a one-input signature.
        Returns the outputs by name; ``.version`` is the version that answered."""
        ref = self.settings.model_ref(model, version=version, label=label, signature=signature)
        named = named_inputs(inputs, lambda: self._sole_input(ref, timeout))
        response = self._call(_PS + "Predict", predict_request(ref, named, output_filter), timeout)
        return prediction_from(response)

    def classify(self, model: str, features: Features, *, version: int | None = None, label: str | None = None,
                 signature: str | None = "classify", timeout: float | None = None) -> dict[str, np.ndarray]:
        """Classify tf.Examples; returns ``classes`` (N x K, str) and ``scores`` (N x K, float32)."""
        ref = self.settings.model_ref(model, version=version, label=label, signature=signature)
        request = messages.ClassificationRequest()
        fill_model_spec(request.model_spec, ref)
        to_input(features, request)
        response = self._call(_PS + "Classify", request, timeout)
        rows = response.result.classifications
        classes = np.array([[c.label for c in row.classes] for row in rows], dtype=object)
        scores = np.array([[c.score for c in row.classes] for row in rows], dtype=np.float32)
        return {"classes": classes, "scores": scores}

    def regress(self, model: str, features: Features, *, version: int | None = None, label: str | None = None,
                signature: str | None = "regress", timeout: float | None = None) -> np.ndarray:
        """Regress tf.Examples; returns one float32 value per example."""
        ref = self.settings.model_ref(model, version=version, label=label, signature=signature)
        request = messages.RegressionRequest()
        fill_model_spec(request.model_spec, ref)
        to_input(features, request)
        response = self._call(_PS + "Regress", request, timeout)
        return np.array([r.value for r in response.result.regressions], dtype=np.float32)

    def metadata(self, model: str, *, version: int | None = None, label: str | None = None,
                 timeout: float | None = None) -> ModelMetadata:
        """Signatures (inputs and outputs with dtypes and shapes) of the addressed version."""
        return self._metadata(self.settings.model_ref(model, version=version, label=label), timeout)

    def _metadata(self, ref: ModelRef, timeout: float | None) -> ModelMetadata:
        request = messages.GetModelMetadataRequest(metadata_field=["signature_def"])
        fill_model_spec(request.model_spec, ref, signature=False)
        return ModelMetadata.from_proto(self._call(_PS + "GetModelMetadata", request, timeout))

    def status(self, model: str, *, version: int | None = None, timeout: float | None = None) -> list[VersionStatus]:
        """Every version's state, newest first (labels are ignored by TF Serving here)."""
        request = messages.GetModelStatusRequest()
        request.model_spec.name = model
        if version is not None:
            request.model_spec.version.value = version
        response = self._call("/tensorflow.serving.ModelService/GetModelStatus", request, timeout)
        return [VersionStatus.from_proto(s) for s in response.model_version_status]

    # -- plumbing ----------------------------------------------------------------------------
    def _sole_input(self, ref: ModelRef, timeout: float | None) -> str:
        with self._lock:
            cached = self._sole_inputs.get(ref)
        if cached is None:
            meta = self._metadata(ref, timeout)
            if ref.signature not in meta.signatures:
                raise error_for_code("FAILED_PRECONDITION", f"model {ref.name!r} has no signature "
                                     f"{ref.signature!r}; it has {sorted(meta.signatures)}", self.settings.target)
            cached = sole_input_name(meta.signatures[ref.signature])
            with self._lock:
                self._sole_inputs[ref] = cached
        return cached

    def _call(self, path: str, request: Any, timeout: float | None) -> Any:
        deadline = self.settings.timeout_seconds if timeout is None else timeout
        try:
            return self._stubs[path](request, timeout=deadline)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
            details = (exc.details() if hasattr(exc, "details") else "") or str(exc)
            log.debug("%s failed: %s %s", path, code.name, details)
            raise error_for_code(code.name, details, self.settings.target) from exc

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "PredictClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
