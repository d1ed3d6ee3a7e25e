"""One loaded SavedModel version: its SignatureDefs, and a cached fast call per signature.

Loading mirrors TF Serving's SavedModel bundle:
- the MetaGraphDef for ``--saved_model_tags`` supplies the SignatureDefs served as metadata;
- normally the model is loaded with ``tf.saved_model.load`` and each signature's concrete function is
  called through its flat entry point (no per-request signature binding);
- when ``variables/variables.index`` is missing, TF Serving's C++ loader skips the restore, reports
  the version AVAILABLE and fails at inference (tensorflow/serving#1086); so does this loader, by
  importing the graph into a session without restoring variables.

>>> # s = load_servable("fuel", 1, "/store/fuel/1", ("serve",)); s.signature("serving_default")
"""
from __future__ import annotations

import dataclasses
import logging
import os
from typing import Callable, Sequence

import numpy as np

from serving.protocol.dtypes import SPECS, dtype_enum, dtype_name, numpy_dtype
from serving.server.status import Code, ServingError, from_tf_error

__all__ = ["Signature", "Servable", "load_servable"]

log = logging.getLogger(__name__)
Call = Callable[[list[np.ndarray]], list[np.ndarray]]


@dataclasses.dataclass
class Signature:
    """A SignatureDef plus the call that runs it: inputs in ``input_names`` order, all outputs in
    ``output_names`` order."""

    key: str
    signature_def: object  # tensorflow.core.protobuf.meta_graph_pb2.SignatureDef
    input_names: tuple[str, ...]
    input_dtypes: tuple[int, ...]
    input_shapes: tuple[tuple[int, ...] | None, ...]
    output_names: tuple[str, ...]
    call: Call

    def check_input(self, index: int, array: np.ndarray) -> None:
        """TF's own feed checks: the dtype must match; the shape must fit the signature's shape."""
        want = self.input_dtypes[index]
        want_np = numpy_dtype(want) if want in SPECS else None
        if want_np is None or array.dtype != want_np:
            got = _enum_for(array.dtype)
            raise ServingError(Code.INVALID_ARGUMENT, f"Expects arg[{index}] to be "
                               f"{_short(want)} but {_short(got)} is provided")
        shape = self.input_shapes[index]
        if shape is not None and (len(shape) != array.ndim or any(
                s >= 0 and s != a for s, a in zip(shape, array.shape))):
            raise ServingError(Code.INVALID_ARGUMENT, (
                f"input tensor alias {self.input_names[index]}: shape [{','.join(map(str, array.shape))}] "
                f"is not compatible with the signature shape [{','.join(map(str, shape))}]"))


def _enum_for(dtype: np.dtype) -> int:
    try:
        return dtype_enum(dtype)
    except KeyError:
        return 0  # DT_INVALID


def _short(enum: int) -> str:
    return dtype_name(enum).removeprefix("DT_").lower()


def _tensor_shape(info) -> tuple[int, ...] | None:
    if info.tensor_shape.unknown_rank:
        return None
    return tuple(d.size for d in info.tensor_shape.dim)


@dataclasses.dataclass
class Servable:
    name: str
    version: int
    path: str
    signatures: dict[str, Signature]
    meta_graph_def: object
    backend: str

    def signature(self, key: str) -> Signature | None:
        return self.signatures.get(key)


def _read_meta_graph(path: str, tags: Sequence[str]):
    from tensorflow.python.saved_model import loader_impl

    loader = loader_impl.SavedModelLoader(path)
    return loader, loader.get_meta_graph_def_from_tags(list(tags))


def _eager_calls(path: str, tags: Sequence[str], meta_graph) -> dict[str, Call]:
    import tensorflow as tf

    loaded = tf.saved_model.load(path, tags=list(tags))
    calls: dict[str, Call] = {}
    for key in meta_graph.signature_def:
        fn = loaded.signatures.get(key) if hasattr(loaded, "signatures") else None
        if fn is None:
            continue
        sig = meta_graph.signature_def[key]
        calls[key] = _flat_call(fn, tuple(sorted(sig.inputs)), tuple(sorted(sig.outputs)))
    # Keep the loaded object alive as long as the calls are.
    for call in calls.values():
        call.__dict__["_loaded"] = loaded
    return calls


def _tensor_factory():
    """numpy → EagerTensor; the direct constructor skips ``tf.constant``'s dispatch (a few µs per input)."""
    import tensorflow as tf

    try:
        from tensorflow.python.eager import context
        from tensorflow.python.framework import ops

        ctx = context.context()
        ctx.ensure_initialized()
        ops.EagerTensor(np.zeros(1, np.float32), ctx.device_name, None)
        return lambda a: ops.EagerTensor(a, ctx.device_name, None)
    except Exception:  # noqa: BLE001 - private API moved: fall back to the public one
        return tf.constant


def _flat_call(fn, input_names: tuple[str, ...], output_names: tuple[str, ...]) -> Call:
    import tensorflow as tf

    tensor = _tensor_factory()

    arg_keywords = list(getattr(fn, "_arg_keywords", None) or [])
    structured = fn.structured_outputs
    flat_keys = sorted(structured) if isinstance(structured, dict) else []
    fast = (hasattr(fn, "_call_flat") and sorted(arg_keywords) == list(input_names)
            and flat_keys == list(output_names))
    if fast:
        order = [input_names.index(k) for k in arg_keywords]
        captured = fn.captured_inputs
        call_flat = fn._call_flat  # noqa: SLF001 - the flat entry point skips per-call binding

        def call(arrays: list[np.ndarray]) -> list[np.ndarray]:
            outs = call_flat([tensor(arrays[i]) for i in order], captured)
            if isinstance(outs, dict):
                return [outs[k].numpy() for k in output_names]
            return [t.numpy() for t in outs]
        return call

    def slow_call(arrays: list[np.ndarray]) -> list[np.ndarray]:
        result = fn(**{n: tf.constant(a) for n, a in zip(input_names, arrays)})
        return [result[k].numpy() for k in output_names]
    return slow_call


def _session_calls(path: str, tags: Sequence[str], loader, meta_graph, restore: bool) -> dict[str, Call]:
    import tensorflow as tf

    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph)
    with graph.as_default():
        saver, _ = loader.load_graph(graph, list(tags))
        if restore:
            loader.restore_variables(session, saver)
        else:
            log.warning("The specified SavedModel has no variables; no checkpoints were restored. "
                        "File does not exist: %s", os.path.join(path, "variables", "variables.index"))
        loader.run_init_ops(session, list(tags))
    calls: dict[str, Call] = {}
    for key, sig in meta_graph.signature_def.items():
        in_names, out_names = tuple(sorted(sig.inputs)), tuple(sorted(sig.outputs))
        try:
            feeds = [graph.get_tensor_by_name(sig.inputs[n].name) for n in in_names]
            fetches = [graph.get_tensor_by_name(sig.outputs[n].name) for n in out_names]
        except (KeyError, ValueError):
            continue
        runner = session.make_callable(fetches, feed_list=feeds)
        calls[key] = lambda arrays, runner=runner: list(runner(*arrays))
    for call in calls.values():
        call.__dict__["_session"] = session
    return calls


def load_servable(name: str, version: int, path: str, tags: Sequence[str]) -> Servable:
    """Load one version. Raises ``ServingError`` with TF's code and message on failure."""
    try:
        loader, meta_graph = _read_meta_graph(path, tags)
        index = os.path.join(path, "variables", "variables.index")
        has_variables = bool(meta_graph.meta_info_def) and os.path.isdir(os.path.join(path, "variables"))
        if has_variables and not os.path.exists(index):
            calls, backend = _session_calls(path, tags, loader, meta_graph, restore=False), "session"
        else:
            calls, backend = _eager_calls(path, tags, meta_graph), "eager"
    except ServingError:
        raise
    except OSError as exc:
        raise ServingError(Code.NOT_FOUND, str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - any TF load failure becomes the version's error status
        raise from_tf_error(exc) from exc
    signatures: dict[str, Signature] = {}
    for key, call in calls.items():
        sig = meta_graph.signature_def[key]
        in_names = tuple(sorted(sig.inputs))
        signatures[key] = Signature(
            key, sig, in_names, tuple(sig.inputs[n].dtype for n in in_names),
            tuple(_tensor_shape(sig.inputs[n]) for n in in_names), tuple(sorted(sig.outputs)), call)
    return Servable(name, version, path, signatures, meta_graph, backend)
