"""One loaded SavedModel version: its SignatureDefs, and a runner per signature.

Loading is TF Serving's (``saved_model_bundle_factory.cc`` → ``LoadSavedModel``): the MetaGraph for
``--saved_model_tags`` is imported into a TensorFlow session, the variables restored and the init
ops run (:mod:`serving.server.tfc`, TensorFlow's C API). Each signature runs by its tensor names;
dtypes and shapes are TensorFlow's own business, so a TF1-era model whose SignatureDef shapes
disagree with its placeholders loads and serves. A version whose ``variables/variables.index`` is
missing loads (TensorFlow skips the restore) and fails at inference, as in TF Serving
(tensorflow/serving#1086).

>>> # s = load_servable("fuel", 1, "/store/fuel/1", ("serve",)); s.signature("serving_default").call([...])
"""
from __future__ import annotations

import dataclasses
import logging
import os
from typing import Callable, Sequence

import numpy as np

from serving.protocol import messages
from serving.protocol.dtypes import dtype_enum, dtype_name
from serving.server.status import Code, ServingError
from serving.server.tfc import Session, TFError

__all__ = ["Signature", "Servable", "load_servable", "signature_defs", "dtype_error"]

log = logging.getLogger(__name__)
Call = Callable[[list[np.ndarray]], list[np.ndarray]]
_SIGNATURE_DEF = 5  # MetaGraphDef.signature_def


@dataclasses.dataclass
class Signature:
    """A SignatureDef plus the call that runs it: inputs in ``input_names`` order, all outputs in
    ``output_names`` order. ``input_dtypes`` are the graph's own dtypes of the fed tensors (what
    TensorFlow checks a feed against)."""

    key: str
    signature_def: messages.SignatureDef
    input_names: tuple[str, ...]
    input_dtypes: tuple[int, ...]
    output_names: tuple[str, ...]
    call: Call


def _short(enum: int) -> str:
    return dtype_name(enum).removeprefix("DT_").lower()


def dtype_error(index: int, want: int, got: int) -> ServingError:
    """TensorFlow's own message for a feed of the wrong dtype (``FunctionCallFrame::SetArgs``)."""
    return ServingError(Code.INVALID_ARGUMENT, f"Expects arg[{index}] to be {_short(want)} but {_short(got)} "
                        "is provided")


_ENUMS: dict[np.dtype, int] = {}


def enum_of(array: np.ndarray) -> int:
    """The DataType of an array's dtype (DT_INVALID when TensorFlow has none), cached per dtype."""
    dtype = array.dtype
    enum = _ENUMS.get(dtype)
    if enum is None:
        try:
            enum = dtype_enum(dtype)
        except KeyError:
            enum = 0  # DT_INVALID
        if dtype.isnative:
            _ENUMS[dtype] = enum
    return enum


@dataclasses.dataclass
class Servable:
    """A loaded version. Views of it under other model names (``dataclasses.replace``) share the
    session, the signatures and the runners."""

    name: str
    version: int
    path: str
    signatures: dict[str, Signature]
    signature_map: messages.SignatureDefMap
    session: Session | None = None
    runners: dict[tuple[tuple[str, ...], tuple[str, ...]], Call] = dataclasses.field(default_factory=dict)

    def signature(self, key: str) -> Signature | None:
        return self.signatures.get(key)

    def run(self, feeds: Sequence[str], fetches: Sequence[str], arrays: list[np.ndarray]) -> list[np.ndarray]:
        """``Session::Run`` by tensor names. A run whose feeds and fetches are exactly one signature's
        goes through that signature's call (batched with ``--enable_batching``, as TF Serving's
        batching session batches runs that match a signature)."""
        key = (tuple(feeds), tuple(fetches))
        call = self.runners.get(key)
        if call is None:
            call = self.runners.setdefault(key, self._runner_for(feeds, fetches))
        return call(arrays)

    def _runner_for(self, feeds: Sequence[str], fetches: Sequence[str]) -> Call:
        for signature in self.signatures.values():
            sig = signature.signature_def
            in_names = [sig.inputs[a].name for a in signature.input_names]
            out_names = [sig.outputs[a].name for a in signature.output_names]
            if sorted(in_names) == sorted(feeds) and sorted(out_names) == sorted(fetches):
                feed_order = [list(feeds).index(n) for n in in_names]
                fetch_order = [out_names.index(n) for n in fetches]
                return lambda arrays, s=signature: _reorder(s.call([arrays[i] for i in feed_order]), fetch_order)
        if self.session is None:
            raise ServingError(Code.FAILED_PRECONDITION, f"version {self.version} of {self.name} has no session")
        try:
            return self.session.runner(list(feeds), list(fetches))
        except TFError as exc:
            raise ServingError(Code(exc.code), exc.message) from exc


def _reorder(outputs: list[np.ndarray], order: list[int]) -> list[np.ndarray]:
    return [outputs[i] for i in order]


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def signature_defs(meta_graph_def: bytes) -> messages.SignatureDefMap:
    """The ``signature_def`` map of a serialized ``MetaGraphDef``, without parsing its (large) graph.

    Field 5's map entries are the same bytes as ``SignatureDefMap``'s field 1 entries, so they are
    copied across and parsed as that message.

    >>> entry = b"\\x0a\\x01a\\x12\\x02\\x1a\\x00"  # key "a", SignatureDef{method_name: ""}
    >>> list(signature_defs(b"\\x2a" + bytes([len(entry)]) + entry).signature_def)
    ['a']
    """
    entries = bytearray()
    pos, end = 0, len(meta_graph_def)
    while pos < end:
        key, pos = _varint(meta_graph_def, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _varint(meta_graph_def, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(meta_graph_def, pos)
            if field == _SIGNATURE_DEF:
                entries += b"\x0a" + _encode_varint(length) + meta_graph_def[pos:pos + length]
            pos += length
        else:
            raise ValueError(f"MetaGraphDef: unsupported wire type {wire} at byte {pos}")
    return messages.SignatureDefMap.FromString(bytes(entries))


def _unrunnable(key: str, error: TFError) -> Call:
    def call(arrays: list[np.ndarray]) -> list[np.ndarray]:
        raise ServingError(Code(error.code), error.message)
    log.debug("Signature %s cannot run: %s", key, error.message)
    return call


def _signature(session: Session, key: str, sig) -> Signature:
    in_names, out_names = tuple(sorted(sig.inputs)), tuple(sorted(sig.outputs))
    try:
        runner = session.runner([sig.inputs[n].name for n in in_names], [sig.outputs[n].name for n in out_names])
    except TFError as exc:  # a sparse or composite TensorInfo, or a name the graph lacks
        dtypes = tuple(sig.inputs[n].dtype for n in in_names)
        return Signature(key, sig, in_names, dtypes, out_names, _unrunnable(key, exc))
    return Signature(key, sig, in_names, runner.dtypes, out_names, runner)


def load_servable(name: str, version: int, path: str, tags: Sequence[str], config: bytes = b"") -> Servable:
    """Load one version into a session. Raises ``ServingError`` with TensorFlow's code and message."""
    if not os.path.isdir(path):
        raise ServingError(Code.NOT_FOUND, f"SavedModel not found at {path}")
    try:
        session, meta_graph_def = Session.load(path, tags, config)
    except TFError as exc:
        raise ServingError(Code(exc.code), exc.message) from exc
    signature_map = signature_defs(meta_graph_def)
    signatures = {key: _signature(session, key, sig) for key, sig in signature_map.signature_def.items()}
    return Servable(name, version, path, signatures, signature_map, session)
