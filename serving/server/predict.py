"""Predict's request checks, in TF Serving's order and words (``predict_util.cc``, TensorFlow's
``saved_model::GetInputValues``), and the one check TF Serving lacks: a bound on the elements a
request's input tensors declare.

TF Serving checks input *names* only, then decodes each TensorProto and calls ``Session::Run``; dtypes
and shapes are TensorFlow's business. Here every declared shape is read first (nothing is
allocated), so a 66-byte request declaring 2^29 floats is refused before a byte of it is expanded.

>>> check_input_names(_sig({"x": "x:0"}), {"x"})
>>> check_input_names(_sig({"x": "x:0"}), {"x", "y"})
Traceback (most recent call last):
...
serving.server.status.ServingError: input size does not match signature: 2!=1 len({x,y}) != len({x}). Sent extra: {y}. Missing but required: {}.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from serving.protocol import messages
from serving.protocol.tensors import TensorError, to_ndarray
from serving.server.servable import Signature, dtype_error, enum_of
from serving.server.status import Code, ServingError

__all__ = ["DEFAULT_MAX_REQUEST_ELEMENTS", "PREDICT_METHODS", "check_method", "check_input_names",
           "decode_inputs", "check_output_filter", "check_dtypes", "array_elements", "proto_elements"]

#: ``--max_request_elements``' default: 2^25 elements (128 MiB of float32) across a request's inputs.
DEFAULT_MAX_REQUEST_ELEMENTS = 1 << 25
PREDICT_METHODS = ("tensorflow/serving/predict", "tensorflow/serving/classify", "tensorflow/serving/regress")


def _sig(inputs: dict[str, str]) -> Signature:
    """A bare signature for the doctest."""
    sig = messages.SignatureDef()
    for alias, name in inputs.items():
        sig.inputs[alias].name = name
    return Signature("s", sig, tuple(sorted(inputs)), (1,) * len(inputs), (), lambda a: a)


def _join(names) -> str:
    return ",".join(sorted(names))


def check_method(signature: Signature, enabled: bool) -> None:
    """``--enable_signature_method_name_check``: a predict call on a signature of another kind."""
    method = signature.signature_def.method_name
    if enabled and method not in PREDICT_METHODS:
        raise ServingError(Code.INTERNAL, "Expected prediction signature method_name to be one of {"
                           f"{', '.join(PREDICT_METHODS)}}}. Was: {method}")


def check_input_names(signature: Signature, given: set[str]) -> None:
    """``VerifyRequestInputsSize`` then the alias checks of ``GetInputValues``."""
    sig = signature.signature_def
    wanted, defaults = set(sig.inputs), set(sig.defaults)
    if len(given) > len(wanted) or (len(given) < len(wanted) and not defaults):
        raise ServingError(Code.INVALID_ARGUMENT, (
            f"input size does not match signature: {len(given)}!={len(wanted)} len({{{_join(given)}}}) != "
            f"len({{{_join(wanted)}}}). Sent extra: {{{_join(given - wanted)}}}. "
            f"Missing but required: {{{_join(wanted - given)}}}."))
    for alias in sorted(wanted):
        if alias not in given and alias not in defaults:
            raise ServingError(Code.INVALID_ARGUMENT, (
                f"Signature input alias: {alias}(feed name: {sig.inputs[alias].name}) not found in request and no "
                f"default value provided. Inputs expected to be in the request {{{_join(given)}}}, or default input "
                f"alias set: {_join(defaults)}"))
    if given and not given <= wanted:
        raise ServingError(Code.INVALID_ARGUMENT, (
            f"Inputs contains invalid name. Used request inputs: {_join(given & wanted)}, request input: "
            f"{_join(given)}"))


def array_elements(array: np.ndarray) -> int:
    return int(array.size)


def proto_elements(proto: Any) -> int:
    """The elements a TensorProto declares, read off its shape alone (``declared(proto).elements``
    without building the rest); TensorError for an unknown rank or a negative dimension. The codec
    checks the shape in full when it decodes, before it allocates."""
    shape = proto.tensor_shape
    if shape.unknown_rank:
        raise TensorError("the tensor's shape has an unknown rank")
    count = 1
    for dim in shape.dim:
        size = dim.size
        if size < 0:
            raise TensorError("a negative dimension")
        count *= size
    return count


def _limit_error(total: int, limit: int) -> ServingError:
    return ServingError(Code.INVALID_ARGUMENT, (
        f"The request's input tensors declare {total} elements, more than the {limit} this server accepts "
        "(--max_request_elements, a plantserve serve limit; TensorFlow Serving has none)"))


def decode_inputs(signature: Signature, inputs: Mapping[str, Any], limit: int,
                  count: Callable[[Any], int] = proto_elements) -> list[np.ndarray]:
    """Every input of ``signature`` in its feed order, from the request or the signature's defaults.

    Shapes are read first and their element counts summed against ``limit``; only then is anything
    decoded (the TensorProto codec, bounded by ``limit`` too). REST passes arrays already decoded from
    its JSON, with ``array_elements``."""
    defaults = signature.signature_def.defaults
    chosen = [(alias, inputs[alias] if alias in inputs else defaults[alias]) for alias in signature.input_names]
    total = 0
    for alias, value in chosen:
        try:
            total += count(value)
        except TensorError as exc:
            raise ServingError(Code.INVALID_ARGUMENT, f"tensor parsing error: {alias}") from exc
    if total > limit:
        raise _limit_error(total, limit)
    out = []
    for alias, value in chosen:
        if isinstance(value, np.ndarray):
            out.append(value)
            continue
        try:
            out.append(to_ndarray(value, max_elements=limit))
        except TensorError as exc:
            raise ServingError(Code.INVALID_ARGUMENT, f"tensor parsing error: {alias}") from exc
    return out


def check_output_filter(signature: Signature, output_filter: Sequence[str]) -> list[str]:
    """The aliases to fetch, as ``PreProcessPrediction`` checks them; all outputs when no filter."""
    outputs = signature.signature_def.outputs
    seen: list[str] = []
    for alias in output_filter:
        if alias not in outputs:
            raise ServingError(Code.INVALID_ARGUMENT, (
                f"output tensor alias not found in signature: {alias} Outputs expected to be in the set "
                f"{{{_join(outputs)}}}."))
        if alias in seen:
            raise ServingError(Code.INVALID_ARGUMENT, f"duplicate output tensor alias: {alias}")
        seen.append(alias)
    return seen or list(signature.output_names)


def check_dtypes(signature: Signature, arrays: Sequence[np.ndarray]) -> None:
    """TensorFlow's own feed check (``FunctionCallFrame::SetArgs``), made before the run so that a
    batching queue never sees a mistyped tensor."""
    for index, (want, array) in enumerate(zip(signature.input_dtypes, arrays)):
        got = enum_of(array)
        if got != want:
            raise dtype_error(index, want, got)
