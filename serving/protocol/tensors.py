"""numpy arrays ↔ ``tensorflow.TensorProto``: the one codec of the client, the server and the sidecar.

Decoding follows TensorFlow's ``Tensor::FromProto``:

- ``tensor_content`` must hold exactly the shape's bytes, little-endian (a string tensor: TF's
  string-list encoding, every length as a varint, then the bytes);
- otherwise the typed ``*_val`` field of the dtype is read: fewer values than elements repeat the
  last one, no values means zeros (empty strings);
- an unknown dtype, an unknown rank, a negative dimension, more than 254 dimensions, more values
  than elements or a short ``tensor_content`` raise :class:`TensorError` (a ``ValueError``): the
  client turns it into ``InvalidInput``, the server into INVALID_ARGUMENT.

:func:`declared` reads a proto's dtype, shape and element count without allocating, so a server can
refuse a 66-byte request that declares 2^29 floats before decoding anything; ``to_ndarray`` takes
the same bound as ``max_elements``.

Encoding writes ``tensor_content`` (``content=True``: what clients send, and TF Serving's answer
with ``--enable_serialization_as_tensor_content``) or the typed fields (``content=False``: TF
Serving's default ``kAsProtoField``). Strings always go in ``string_val``.

>>> proto = to_tensor_proto(np.array([[1.0, 2.0]], dtype=np.float32))
>>> proto.dtype, [d.size for d in proto.tensor_shape.dim], len(proto.tensor_content)
(1, [1, 2], 8)
>>> to_ndarray(proto).tolist()
[[1.0, 2.0]]
>>> short = messages.TensorProto(dtype=1, float_val=[1.0, 7.5])
>>> _ = short.tensor_shape.dim.add(size=4)
>>> to_ndarray(short).tolist()  # the last value repeats
[1.0, 7.5, 7.5, 7.5]
"""
from __future__ import annotations

import sys
from typing import Any, NamedTuple

import numpy as np

from serving.protocol import messages
from serving.protocol.dtypes import DT_STRING, SPECS, DtypeSpec, dtype_enum, dtype_name, numpy_dtype

__all__ = ["TensorError", "Declared", "declared", "to_ndarray", "to_tensor_proto", "MAX_RANK"]

#: TensorFlow's limit on the number of dimensions (``TensorShape::MaxDimensions``).
MAX_RANK = 254
_INT64_MAX = 2**63 - 1
_LITTLE = sys.byteorder == "little"


class TensorError(ValueError):
    """A TensorProto that is not a valid tensor, or a value that has no TensorProto form."""


class Declared(NamedTuple):
    """What a TensorProto says it holds, read without decoding it."""

    dtype: int
    shape: tuple[int, ...]
    elements: int


def declared(proto: Any) -> Declared:
    """The proto's dtype, shape and element count; raises TensorError for a shape TF rejects
    (unknown rank, a negative dimension, more than 254 dimensions, more than 2^63-1 elements)."""
    shape_proto = proto.tensor_shape
    if shape_proto.unknown_rank:
        raise TensorError("the tensor's shape has an unknown rank")
    shape = tuple(d.size for d in shape_proto.dim)
    if len(shape) > MAX_RANK:
        raise TensorError(f"the tensor has {len(shape)} dimensions, more than {MAX_RANK}")
    elements = 1
    for size in shape:
        if size < 0:
            raise TensorError(f"shape {list(shape)} has a negative dimension")
        elements *= size
        if elements > _INT64_MAX:
            raise TensorError(f"shape {list(shape)} has more than 2^63-1 elements")
    return Declared(proto.dtype, shape, elements)


def to_ndarray(proto: Any, *, max_elements: int | None = None) -> np.ndarray:
    """Decode a TensorProto (bytes objects in an ``object`` array for DT_STRING).

    ``max_elements`` refuses a larger declared shape before anything is allocated."""
    spec = SPECS.get(proto.dtype)
    if spec is None:
        raise TensorError(f"TensorProto dtype {dtype_name(proto.dtype)} is not supported")
    head = declared(proto)
    if max_elements is not None and head.elements > max_elements:
        raise TensorError(f"the tensor declares {head.elements} elements, more than the {max_elements} allowed")
    dtype = numpy_dtype(spec.enum)
    if proto.tensor_content:
        if spec.enum == DT_STRING:
            flat = _strings_from_content(proto.tensor_content, head.elements)
        else:
            flat = _from_content(proto.tensor_content, dtype, head)
    else:
        flat = _from_values(proto, spec, dtype, head)
    return flat.reshape(head.shape)


def _from_content(content: bytes, dtype: np.dtype, head: Declared) -> np.ndarray:
    want = head.elements * dtype.itemsize
    if len(content) != want:
        raise TensorError(f"tensor_content holds {len(content)} bytes; shape {list(head.shape)} of "
                          f"{dtype_name(head.dtype)} needs {want}")
    array = np.frombuffer(content, dtype=dtype)
    return array if _LITTLE else array.byteswap()


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 28:
            break
    raise TensorError("string tensor_content has a malformed length")


def _strings_from_content(content: bytes, count: int) -> np.ndarray:
    """TF's ``DecodeStringList``: ``count`` varint32 lengths, then the strings back to back."""
    if count > len(content):
        raise TensorError(f"string tensor_content of {len(content)} bytes cannot hold {count} strings")
    lengths, pos = [], 0
    for _ in range(count):
        length, pos = _varint(content, pos)
        lengths.append(length)
    if pos + sum(lengths) != len(content):
        raise TensorError(f"string tensor_content does not hold exactly {count} strings")
    out = np.empty(count, dtype=object)
    for i, length in enumerate(lengths):
        out[i] = content[pos:pos + length]
        pos += length
    return out


def _from_values(proto: Any, spec: DtypeSpec, dtype: np.dtype, head: Declared) -> np.ndarray:
    values = getattr(proto, spec.field)
    n = len(values)
    if n % spec.per_value:
        raise TensorError(f"{spec.field} holds {n} numbers; complex values are (real, imaginary) pairs")
    n //= spec.per_value
    if n > head.elements:
        raise TensorError(f"{spec.field} holds {n} values for shape {list(head.shape)} "
                          f"({head.elements} elements)")
    if n == 0:  # no values: zeros
        return np.full(head.elements, b"", dtype=object) if spec.enum == DT_STRING else np.zeros(head.elements, dtype)
    if spec.enum == DT_STRING:
        given = np.empty(n, dtype=object)
        given[:] = list(values)
    else:
        given = _numbers(values, spec, dtype, n)
    if n == head.elements:
        return given
    full = np.empty(head.elements, dtype=dtype)  # fewer values: the last one repeats
    full[:n] = given
    full[n:] = given[-1]
    return full


def _numbers(values: Any, spec: DtypeSpec, dtype: np.dtype, n: int) -> np.ndarray:
    try:
        if spec.bits16:  # half_val: the 16-bit patterns in int32s
            bits = np.fromiter(values, dtype=np.int64, count=n)
            if bits.min() < 0 or bits.max() > 0xFFFF:
                raise TensorError(f"{spec.field} holds a value outside 0..65535")
            return bits.astype(np.uint16).view(dtype)
        if spec.per_value == 2:
            part = np.float32 if dtype == np.complex64 else np.float64
            return np.fromiter(values, dtype=part, count=2 * n).view(dtype)
        return np.fromiter(values, dtype=dtype, count=n)
    except OverflowError as exc:
        raise TensorError(f"{spec.field} holds a value out of range for {dtype_name(spec.enum)}: {exc}") from exc


def to_tensor_proto(value: Any, dtype: Any = None, *, content: bool = True, proto: Any = None) -> Any:
    """Encode ``value`` (array-like) into ``proto`` (a new TensorProto when None) and return it.

    Python floats become float32 unless ``dtype`` says otherwise, as ``tf.make_tensor_proto`` does;
    numpy values keep their dtype. Raises TensorError for a dtype TensorFlow has no equivalent of."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TensorError(f"cannot make an array of {type(value).__name__}: {exc}") from exc
    if dtype is None and array.dtype == np.float64 and not isinstance(value, (np.ndarray, np.generic)):
        array = array.astype(np.float32)
    try:
        enum = dtype_enum(array.dtype)
    except KeyError:
        supported = sorted(s.numpy for s in SPECS.values() if s.enum != DT_STRING)
        raise TensorError(f"numpy dtype {array.dtype} has no TensorFlow equivalent; cast to one of "
                          f"{', '.join(supported)}, or bytes/str") from None
    proto = messages.TensorProto() if proto is None else proto
    proto.dtype = enum
    proto.tensor_shape.SetInParent()  # present even for a scalar, as TensorFlow writes it
    dims = proto.tensor_shape.dim
    for size in array.shape:
        dims.add(size=size)
    if enum == DT_STRING:
        proto.string_val.extend(_to_bytes(v) for v in array.ravel())
    elif content:
        proto.tensor_content = _little_endian(array).tobytes()
    else:
        _fill_values(proto, SPECS[enum], array)
    return proto


def _little_endian(array: np.ndarray) -> np.ndarray:
    order = array.dtype.byteorder
    if order == ">" or (order == "=" and not _LITTLE):
        return array.byteswap().view(array.dtype.newbyteorder("<"))
    return array


def _fill_values(proto: Any, spec: DtypeSpec, array: np.ndarray) -> None:
    flat = array.ravel()
    if not flat.dtype.isnative:
        flat = flat.astype(flat.dtype.newbyteorder("="))
    field = getattr(proto, spec.field)
    if spec.bits16:
        field.extend(flat.view(np.uint16).tolist())
    elif spec.per_value == 2:
        field.extend(flat.view(np.float32 if flat.dtype == np.complex64 else np.float64).tolist())
    else:
        field.extend(flat.tolist())


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TensorError(f"string tensors take bytes or str elements, got {type(value).__name__}")
