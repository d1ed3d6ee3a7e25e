"""TensorFlow's C API through ctypes: a SavedModel loaded into a session and run by tensor names.

This is what TF Serving does (``saved_model_bundle_factory.cc`` → ``LoadSavedModel`` →
``Session::Run``): ``TF_LoadSessionFromSavedModel`` imports the MetaGraph for the tags, restores
the variables and runs the init ops; ``TF_SessionRun`` feeds and fetches tensors by name. TF's own
runtime checks dtypes and shapes, so a TF1-era model whose SignatureDef shapes disagree with its
placeholders serves as it does in TF Serving.

The C library ships in the ``tensorflow`` wheel; loading it takes a fraction of a second, where
``import tensorflow`` takes several (Keras, autograph, distribute...). Calls that can block
(loading, running) release the interpreter lock; the short bookkeeping calls keep it, so they
never queue behind other threads for it.

>>> # session, meta_graph = Session.load("/store/fuel/1", ("serve",))
>>> # run = session.runner(["x:0"], ["y:0"]); run([np.ones((1, 1), np.float32)])
"""
from __future__ import annotations

import ctypes
import functools
import logging
import threading
from ctypes import POINTER, c_char_p, c_int, c_int64, c_size_t, c_void_p
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from serving.protocol.dtypes import DT_STRING, SPECS, dtype_name, numpy_dtype

__all__ = ["TFError", "Session", "Runner", "library", "version", "session_config", "tensorflow_dir"]

log = logging.getLogger(__name__)
_TSTRING = 24  # sizeof(TF_TString)
_BIG_COPY = 1 << 20  # larger copies release the interpreter lock


class TFError(Exception):
    """A non-OK ``TF_Status``: the canonical code and TensorFlow's own message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = self.error_code = code
        self.message = message


class _Output(ctypes.Structure):
    _fields_ = [("oper", c_void_p), ("index", c_int)]


class _Buffer(ctypes.Structure):
    _fields_ = [("data", c_void_p), ("length", c_size_t), ("data_deallocator", c_void_p)]


_SIGS: dict[str, tuple[object, list]] = {
    # Short calls: the interpreter lock is kept.
    "TF_Version": (c_char_p, []),
    "TF_NewStatus": (c_void_p, []),
    "TF_DeleteStatus": (None, [c_void_p]),
    "TF_GetCode": (c_int, [c_void_p]),
    "TF_Message": (c_char_p, [c_void_p]),
    "TF_NewBuffer": (POINTER(_Buffer), []),
    "TF_DeleteBuffer": (None, [POINTER(_Buffer)]),
    "TF_NewSessionOptions": (c_void_p, []),
    "TF_DeleteSessionOptions": (None, [c_void_p]),
    "TF_SetConfig": (None, [c_void_p, c_char_p, c_size_t, c_void_p]),
    "TF_NewGraph": (c_void_p, []),
    "TF_DeleteGraph": (None, [c_void_p]),
    "TF_GraphOperationByName": (c_void_p, [c_void_p, c_char_p]),
    "TF_OperationNumOutputs": (c_int, [c_void_p]),
    "TF_OperationOutputType": (c_int, [_Output]),
    "TF_AllocateTensor": (c_void_p, [c_int, POINTER(c_int64), c_int, c_size_t]),
    "TF_DeleteTensor": (None, [c_void_p]),
    "TF_TensorType": (c_int, [c_void_p]),
    "TF_NumDims": (c_int, [c_void_p]),
    "TF_Dim": (c_int64, [c_void_p, c_int]),
    "TF_TensorByteSize": (c_size_t, [c_void_p]),
    "TF_TensorData": (c_void_p, [c_void_p]),
    "TF_StringCopy": (None, [c_void_p, c_char_p, c_size_t]),
    "TF_StringGetDataPointer": (c_void_p, [c_void_p]),
    "TF_StringGetSize": (c_size_t, [c_void_p]),
    "TF_StringDealloc": (None, [c_void_p]),
}
_BLOCKING: dict[str, tuple[object, list]] = {
    # Calls that can take long: the interpreter lock is released.
    "TF_LoadSessionFromSavedModel": (c_void_p, [c_void_p, c_void_p, c_char_p, POINTER(c_char_p), c_int, c_void_p,
                                                POINTER(_Buffer), c_void_p]),
    "TF_SessionRun": (None, [c_void_p, c_void_p, POINTER(_Output), POINTER(c_void_p), c_int, POINTER(_Output),
                             POINTER(c_void_p), c_int, c_void_p, c_int, c_void_p, c_void_p]),
    "TF_CloseSession": (None, [c_void_p, c_void_p]),
    "TF_DeleteSession": (None, [c_void_p, c_void_p]),
}


class _Library:
    """The two handles on TensorFlow's C library: ``fast`` keeps the interpreter lock, ``blocking``
    releases it."""

    def __init__(self, directory: Path) -> None:
        ctypes.CDLL(str(directory / "libtensorflow_framework.so.2"), mode=ctypes.RTLD_LOCAL)
        path = str(directory / "libtensorflow_cc.so.2")
        self.fast = ctypes.PyDLL(path, mode=ctypes.RTLD_LOCAL)
        self.blocking = ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
        for handle, sigs in ((self.fast, _SIGS), (self.blocking, _BLOCKING)):
            for name, (restype, argtypes) in sigs.items():
                fn = getattr(handle, name)
                fn.restype, fn.argtypes = restype, argtypes
        libc = ctypes.PyDLL(None)
        self.memmove = libc.memmove
        self.memmove.restype, self.memmove.argtypes = c_void_p, [c_void_p, c_void_p, c_size_t]
        self.copy_in = ctypes.PyDLL(None).memmove  # from a bytes object: no ctypes view of the array needed
        self.copy_in.restype, self.copy_in.argtypes = c_void_p, [c_void_p, c_char_p, c_size_t]
        self.memset = libc.memset
        self.memset.restype, self.memset.argtypes = c_void_p, [c_void_p, c_int, c_size_t]
        self._status = threading.local()

    def status(self) -> int:
        """This thread's reusable ``TF_Status``."""
        status = getattr(self._status, "ptr", None)
        if status is None:
            status = self._status.ptr = self.fast.TF_NewStatus()
        return status

    def check(self, status: int) -> None:
        code = self.fast.TF_GetCode(status)
        if code:
            raise TFError(code, (self.fast.TF_Message(status) or b"").decode("utf-8", "replace"))


def tensorflow_dir() -> Path:
    """The installed ``tensorflow`` package's directory, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("TensorFlow is not installed: pip install 'plantserve[full]'")
    return Path(next(iter(spec.submodule_search_locations)))


@functools.lru_cache(maxsize=1)
def library() -> _Library:
    """Load TensorFlow's C library once (about 0.5 s)."""
    return _Library(tensorflow_dir())


def version() -> str:
    return library().fast.TF_Version().decode()


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def session_config(intra_op_threads: int = 0, inter_op_threads: int = 0) -> bytes:
    """A serialized ``ConfigProto`` with its two thread-pool fields (``intra_op_parallelism_threads``
    = 2, ``inter_op_parallelism_threads`` = 5; 0 lets TensorFlow choose, a negative inter-op count
    runs each step in the caller's thread)."""
    out = b""
    if intra_op_threads:
        out += b"\x10" + _varint(intra_op_threads)
    if inter_op_threads:
        out += b"\x28" + _varint(inter_op_threads)
    return out


def _split_name(name: str) -> tuple[str, int]:
    op, _, index = name.partition(":")
    return op, int(index) if index.isdigit() else 0


class Session:
    """A SavedModel's MetaGraph loaded into a TensorFlow session (``TF_LoadSessionFromSavedModel``)."""

    def __init__(self, handle: int, graph: int) -> None:
        self._lib = library()
        self._handle, self._graph = handle, graph
        self._lock = threading.Lock()

    @classmethod
    def load(cls, export_dir: str, tags: Sequence[str], config: bytes = b"") -> tuple["Session", bytes]:
        """Load; returns the session and the serialized MetaGraphDef it was built from. Raises TFError."""
        lib = library()
        fast = lib.fast
        status = fast.TF_NewStatus()
        options = fast.TF_NewSessionOptions()
        graph = fast.TF_NewGraph()
        meta = fast.TF_NewBuffer()
        try:
            if config:
                fast.TF_SetConfig(options, config, len(config), status)
                lib.check(status)
            tag_array = (c_char_p * len(tags))(*(t.encode() for t in tags))
            handle = lib.blocking.TF_LoadSessionFromSavedModel(options, None, export_dir.encode(), tag_array,
                                                               len(tags), graph, meta, status)
            lib.check(status)
            meta_bytes = ctypes.string_at(meta.contents.data, meta.contents.length)
        except BaseException:
            fast.TF_DeleteGraph(graph)
            raise
        finally:
            fast.TF_DeleteBuffer(meta)
            fast.TF_DeleteSessionOptions(options)
            fast.TF_DeleteStatus(status)
        return cls(handle, graph), meta_bytes

    def output(self, name: str) -> tuple[_Output, int]:
        """The graph tensor ``op:index`` and its dtype. Raises TFError (NOT_FOUND) when it is not in the graph."""
        op_name, index = _split_name(name)
        op = self._lib.fast.TF_GraphOperationByName(self._graph, op_name.encode())
        if not op or index >= self._lib.fast.TF_OperationNumOutputs(op):
            raise TFError(5, f"Tensor {name}, specified in either feed_devices or fetch_devices was not found in "
                             "the Graph")
        out = _Output(op, index)
        return out, self._lib.fast.TF_OperationOutputType(out)

    def runner(self, inputs: Sequence[str], outputs: Sequence[str]) -> "Runner":
        return Runner(self, [self.output(n) for n in inputs], [self.output(n) for n in outputs])

    def run(self, feeds: "ctypes.Array[_Output]", values: "ctypes.Array[c_void_p]", fetches: "ctypes.Array[_Output]",
            results: "ctypes.Array[c_void_p]") -> None:
        lib = self._lib
        status = lib.status()
        lib.blocking.TF_SessionRun(self._handle, None, feeds, values, len(feeds), fetches, results, len(fetches),
                                   None, 0, None, status)
        lib.check(status)

    def close(self) -> None:
        with self._lock:
            if not self._handle:
                return
            lib, status = self._lib, self._lib.fast.TF_NewStatus()
            try:
                lib.blocking.TF_CloseSession(self._handle, status)
                lib.blocking.TF_DeleteSession(self._handle, status)
                lib.fast.TF_DeleteGraph(self._graph)
            finally:
                lib.fast.TF_DeleteStatus(status)
                self._handle = self._graph = 0

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: the process frees everything anyway
            pass


class Runner:
    """One feed/fetch list of a session, callable with numpy arrays in feed order; returns numpy arrays
    in fetch order. ``dtypes`` are the graph's own dtypes of the feeds."""

    def __init__(self, session: Session, feeds: list[tuple[_Output, int]], fetches: list[tuple[_Output, int]]) -> None:
        self.session = session
        self.dtypes = tuple(d for _, d in feeds)
        self.fetch_dtypes = tuple(d for _, d in fetches)
        self._feeds = (_Output * len(feeds))(*(o for o, _ in feeds))
        self._fetches = (_Output * len(fetches))(*(o for o, _ in fetches))
        self._lib = library()

    def __call__(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        lib, fast = self._lib, self._lib.fast
        n_in, n_out = len(self._feeds), len(self._fetches)
        if len(arrays) != n_in:
            raise TFError(3, f"expected {n_in} feeds, got {len(arrays)}")
        values = (c_void_p * n_in)()
        results = (c_void_p * n_out)()
        strings: list[tuple[int, int]] = []
        try:
            for i, array in enumerate(arrays):
                values[i] = self._tensor(array, self.dtypes[i], strings)
            self.session.run(self._feeds, values, self._fetches, results)
            return [_to_numpy(lib, results[i]) for i in range(n_out)]
        finally:
            for base, count in strings:
                for j in range(count):
                    fast.TF_StringDealloc(base + j * _TSTRING)
            for i in range(n_in):
                if values[i]:
                    fast.TF_DeleteTensor(values[i])
            for i in range(n_out):
                if results[i]:
                    fast.TF_DeleteTensor(results[i])

    def _tensor(self, array: np.ndarray, want: int, strings: list[tuple[int, int]]) -> int:
        lib, fast = self._lib, self._lib.fast
        dims = (c_int64 * array.ndim)(*array.shape)
        if array.dtype.kind == "O":
            count = array.size
            tensor = fast.TF_AllocateTensor(DT_STRING, dims, array.ndim, count * _TSTRING)
            base = fast.TF_TensorData(tensor)
            lib.memset(base, 0, count * _TSTRING)  # TF_StringInit: an empty small string
            strings.append((base, count))
            for j, value in enumerate(array.ravel()):
                fast.TF_StringCopy(base + j * _TSTRING, value, len(value))
            return tensor
        enum = want if want in SPECS and _numpy(want) == array.dtype else _enum_of(array.dtype)
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        size = array.nbytes
        tensor = fast.TF_AllocateTensor(enum, dims, array.ndim, size)
        if size >= _BIG_COPY:  # one copy, without holding the interpreter lock
            ctypes.memmove(fast.TF_TensorData(tensor), np.ascontiguousarray(array).ctypes.data, size)
        elif size:
            lib.copy_in(fast.TF_TensorData(tensor), array.tobytes(), size)
        return tensor


@functools.lru_cache(maxsize=None)
def _numpy(enum: int) -> np.dtype:
    return numpy_dtype(enum)


def _enum_of(dtype: np.dtype) -> int:
    for enum, spec in SPECS.items():
        if enum != DT_STRING and numpy_dtype(enum) == dtype:
            return enum
    raise TFError(3, f"numpy dtype {dtype} has no TensorFlow equivalent")


def _to_numpy(lib: _Library, tensor: int) -> np.ndarray:
    fast = lib.fast
    enum = fast.TF_TensorType(tensor)
    shape = tuple(fast.TF_Dim(tensor, i) for i in range(fast.TF_NumDims(tensor)))
    data = fast.TF_TensorData(tensor)
    if enum == DT_STRING:
        count = int(np.prod(shape, dtype=np.int64))
        out = np.empty(count, dtype=object)
        for j in range(count):
            cell = data + j * _TSTRING
            out[j] = ctypes.string_at(fast.TF_StringGetDataPointer(cell), fast.TF_StringGetSize(cell))
        return out.reshape(shape)
    if enum not in SPECS:
        raise TFError(12, f"output dtype {dtype_name(enum)} cannot be returned")
    out = np.empty(shape, dtype=numpy_dtype(enum))
    size = fast.TF_TensorByteSize(tensor)
    if size:
        copy: Callable = ctypes.memmove if size >= _BIG_COPY else lib.memmove
        copy(out.ctypes.data, data, size)
    return out
