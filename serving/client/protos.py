"""TF Serving's wire format, declared here so the client needs no TensorFlow and no protoc.

The messages below carry the same full names and field numbers as the official
``tensorflow_serving/apis/*.proto`` and ``tensorflow/core/{framework,example,protobuf}/*.proto``
files, restricted to what the client sends and reads. They are registered in a *private*
``DescriptorPool``, so they never clash with the official generated modules when both are
imported in one process (the byte-compatibility tests do exactly that).

>>> from serving.client import protos
>>> spec = protos.ModelSpec(name="fuel", version_label="stable")
>>> protos.ModelSpec.FromString(spec.SerializeToString()).version_label
'stable'
"""
from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, wrappers_pb2
from google.protobuf.message import Message

__all__ = [
    "POOL", "DataType", "TensorShapeProto", "TensorProto", "Int64Value", "ModelSpec",
    "PredictRequest", "PredictResponse", "Example", "Features", "Feature", "FloatList",
    "Int64List", "BytesList", "Input", "ExampleList", "ClassificationRequest",
    "ClassificationResponse", "RegressionRequest", "RegressionResponse", "TensorInfo",
    "SignatureDef", "SignatureDefMap", "GetModelMetadataRequest", "GetModelMetadataResponse",
    "GetModelStatusRequest", "GetModelStatusResponse", "ModelVersionStatus", "MODEL_STATES",
]

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "double": _F.TYPE_DOUBLE, "float": _F.TYPE_FLOAT, "int64": _F.TYPE_INT64, "uint64": _F.TYPE_UINT64,
    "int32": _F.TYPE_INT32, "bool": _F.TYPE_BOOL, "string": _F.TYPE_STRING, "bytes": _F.TYPE_BYTES,
    "uint32": _F.TYPE_UINT32,
}

#: ``tensorflow.DataType`` values the client knows by name (types.proto).
DataType: dict[str, int] = {
    "DT_INVALID": 0, "DT_FLOAT": 1, "DT_DOUBLE": 2, "DT_INT32": 3, "DT_UINT8": 4, "DT_INT16": 5,
    "DT_INT8": 6, "DT_STRING": 7, "DT_COMPLEX64": 8, "DT_INT64": 9, "DT_BOOL": 10, "DT_BFLOAT16": 14,
    "DT_UINT16": 17, "DT_COMPLEX128": 18, "DT_HALF": 19, "DT_RESOURCE": 20, "DT_VARIANT": 21,
    "DT_UINT32": 22, "DT_UINT64": 23,
}
#: ``ModelVersionStatus.State`` (get_model_status.proto).
MODEL_STATES: dict[str, int] = {"UNKNOWN": 0, "START": 10, "LOADING": 20, "AVAILABLE": 30,
                                "UNLOADING": 40, "END": 50}


def _field(name: str, number: int, kind: str, *, repeated: bool = False,
           oneof: int | None = None) -> _F:
    """``kind`` is a scalar name, ``enum:.pkg.Enum`` or a message full name ``.pkg.Msg``."""
    f = _F(name=name, number=number, json_name=_camel(name),
           label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL)
    if kind in _SCALARS:
        f.type = _SCALARS[kind]
    elif kind.startswith("enum:"):
        f.type, f.type_name = _F.TYPE_ENUM, kind[5:]
    else:
        f.type, f.type_name = _F.TYPE_MESSAGE, kind
    if oneof is not None:
        f.oneof_index = oneof
    return f


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _message(file: descriptor_pb2.FileDescriptorProto, name: str, *fields: _F,
             oneofs: tuple[str, ...] = (), maps: tuple[tuple[str, int, str, str], ...] = (),
             parent: descriptor_pb2.DescriptorProto | None = None) -> descriptor_pb2.DescriptorProto:
    """Add a message; ``maps`` holds ``(field, number, key kind, value kind)`` map fields."""
    msg = (parent.nested_type if parent is not None else file.message_type).add(name=name)
    msg.field.extend(fields)
    for oneof in oneofs:
        msg.oneof_decl.add(name=oneof)
    full = f".{file.package}.{name}" if parent is None else None
    for field_name, number, key, value in maps:
        entry = msg.nested_type.add(name=_camel(field_name)[0].upper() + _camel(field_name)[1:] + "Entry")
        entry.options.map_entry = True
        entry.field.extend([_field("key", 1, key), _field("value", 2, value)])
        assert full is not None, "maps are only declared on top-level messages here"
        msg.field.append(_field(field_name, number, f"{full}.{entry.name}", repeated=True))
    return msg


def _tensorflow_file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(name="plantserve/client/tensorflow.proto",
                                           package="tensorflow", syntax="proto3")
    enum = f.enum_type.add(name="DataType")
    for key, value in DataType.items():
        enum.value.add(name=key, number=value)
    shape = _message(f, "TensorShapeProto", _field("dim", 2, ".tensorflow.TensorShapeProto.Dim", repeated=True),
                     _field("unknown_rank", 3, "bool"))
    _message(f, "Dim", _field("size", 1, "int64"), _field("name", 2, "string"), parent=shape)
    _message(f, "TensorProto",
             _field("dtype", 1, "enum:.tensorflow.DataType"),
             _field("tensor_shape", 2, ".tensorflow.TensorShapeProto"),
             _field("version_number", 3, "int32"),
             _field("tensor_content", 4, "bytes"),
             _field("half_val", 13, "int32", repeated=True),
             _field("float_val", 5, "float", repeated=True),
             _field("double_val", 6, "double", repeated=True),
             _field("int_val", 7, "int32", repeated=True),
             _field("string_val", 8, "bytes", repeated=True),
             _field("scomplex_val", 9, "float", repeated=True),
             _field("int64_val", 10, "int64", repeated=True),
             _field("bool_val", 11, "bool", repeated=True),
             _field("dcomplex_val", 12, "double", repeated=True),
             _field("uint32_val", 16, "uint32", repeated=True),
             _field("uint64_val", 17, "uint64", repeated=True))
    # tf.Example (example.proto, feature.proto)
    _message(f, "BytesList", _field("value", 1, "bytes", repeated=True))
    _message(f, "FloatList", _field("value", 1, "float", repeated=True))
    _message(f, "Int64List", _field("value", 1, "int64", repeated=True))
    _message(f, "Feature", _field("bytes_list", 1, ".tensorflow.BytesList", oneof=0),
             _field("float_list", 2, ".tensorflow.FloatList", oneof=0),
             _field("int64_list", 3, ".tensorflow.Int64List", oneof=0), oneofs=("kind",))
    _message(f, "Features", maps=(("feature", 1, "string", ".tensorflow.Feature"),))
    _message(f, "Example", _field("features", 1, ".tensorflow.Features"))
    # SignatureDef and TensorInfo (meta_graph.proto), only the dense encoding.
    _message(f, "TensorInfo", _field("name", 1, "string"), _field("dtype", 2, "enum:.tensorflow.DataType"),
             _field("tensor_shape", 3, ".tensorflow.TensorShapeProto"))
    _message(f, "SignatureDef", _field("method_name", 3, "string"),
             maps=(("inputs", 1, "string", ".tensorflow.TensorInfo"),
                   ("outputs", 2, "string", ".tensorflow.TensorInfo")))
    return f


def _serving_file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(name="plantserve/client/serving.proto", package="tensorflow.serving",
                                           syntax="proto3",
                                           dependency=["plantserve/client/tensorflow.proto",
                                                       "google/protobuf/any.proto",
                                                       "google/protobuf/wrappers.proto"])
    spec = ".tensorflow.serving.ModelSpec"
    _message(f, "ModelSpec", _field("name", 1, "string"),
             _field("version", 2, ".google.protobuf.Int64Value", oneof=0),
             _field("version_label", 4, "string", oneof=0),
             _field("signature_name", 3, "string"), oneofs=("version_choice",))
    _message(f, "PredictRequest", _field("model_spec", 1, spec), _field("output_filter", 3, "string", repeated=True),
             maps=(("inputs", 2, "string", ".tensorflow.TensorProto"),))
    _message(f, "PredictResponse", _field("model_spec", 2, spec),
             maps=(("outputs", 1, "string", ".tensorflow.TensorProto"),))
    _message(f, "ExampleList", _field("examples", 1, ".tensorflow.Example", repeated=True))
    _message(f, "ExampleListWithContext", _field("examples", 1, ".tensorflow.Example", repeated=True),
             _field("context", 2, ".tensorflow.Example"))
    _message(f, "Input", _field("example_list", 1, ".tensorflow.serving.ExampleList", oneof=0),
             _field("example_list_with_context", 2, ".tensorflow.serving.ExampleListWithContext", oneof=0),
             oneofs=("kind",))
    _message(f, "Class", _field("label", 1, "string"), _field("score", 2, "float"))
    _message(f, "Classifications", _field("classes", 1, ".tensorflow.serving.Class", repeated=True))
    _message(f, "ClassificationResult",
             _field("classifications", 1, ".tensorflow.serving.Classifications", repeated=True))
    _message(f, "ClassificationRequest", _field("model_spec", 1, spec),
             _field("input", 2, ".tensorflow.serving.Input"))
    _message(f, "ClassificationResponse", _field("model_spec", 2, spec),
             _field("result", 1, ".tensorflow.serving.ClassificationResult"))
    _message(f, "Regression", _field("value", 1, "float"))
    _message(f, "RegressionResult", _field("regressions", 1, ".tensorflow.serving.Regression", repeated=True))
    _message(f, "RegressionRequest", _field("model_spec", 1, spec), _field("input", 2, ".tensorflow.serving.Input"))
    _message(f, "RegressionResponse", _field("model_spec", 2, spec),
             _field("result", 1, ".tensorflow.serving.RegressionResult"))
    _message(f, "SignatureDefMap", maps=(("signature_def", 1, "string", ".tensorflow.SignatureDef"),))
    _message(f, "GetModelMetadataRequest", _field("model_spec", 1, spec),
             _field("metadata_field", 2, "string", repeated=True))
    _message(f, "GetModelMetadataResponse", _field("model_spec", 1, spec),
             maps=(("metadata", 2, "string", ".google.protobuf.Any"),))
    _message(f, "GetModelStatusRequest", _field("model_spec", 1, spec))
    _message(f, "StatusProto", _field("error_code", 1, "int32"), _field("error_message", 2, "string"))
    status = _message(f, "ModelVersionStatus", _field("version", 1, "int64"),
                      _field("state", 2, "enum:.tensorflow.serving.ModelVersionStatus.State"),
                      _field("status", 3, ".tensorflow.serving.StatusProto"))
    state = status.enum_type.add(name="State")
    for key, value in MODEL_STATES.items():
        state.value.add(name=key, number=value)
    _message(f, "GetModelStatusResponse",
             _field("model_version_status", 1, ".tensorflow.serving.ModelVersionStatus", repeated=True))
    return f


def _build_pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    any_file = descriptor_pb2.FileDescriptorProto()
    # google.protobuf.Any and Int64Value ship with protobuf itself; copy their descriptors in.
    from google.protobuf import any_pb2

    for module in (any_pb2, wrappers_pb2):
        any_file.Clear()
        module.DESCRIPTOR.CopyToProto(any_file)
        pool.Add(any_file)
    pool.Add(_tensorflow_file())
    pool.Add(_serving_file())
    return pool


POOL = _build_pool()


def _cls(full_name: str) -> type[Message]:
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(full_name))


TensorShapeProto = _cls("tensorflow.TensorShapeProto")
TensorProto = _cls("tensorflow.TensorProto")
BytesList = _cls("tensorflow.BytesList")
FloatList = _cls("tensorflow.FloatList")
Int64List = _cls("tensorflow.Int64List")
Feature = _cls("tensorflow.Feature")
Features = _cls("tensorflow.Features")
Example = _cls("tensorflow.Example")
TensorInfo = _cls("tensorflow.TensorInfo")
SignatureDef = _cls("tensorflow.SignatureDef")
Int64Value = _cls("google.protobuf.Int64Value")
ModelSpec = _cls("tensorflow.serving.ModelSpec")
PredictRequest = _cls("tensorflow.serving.PredictRequest")
PredictResponse = _cls("tensorflow.serving.PredictResponse")
ExampleList = _cls("tensorflow.serving.ExampleList")
Input = _cls("tensorflow.serving.Input")
ClassificationRequest = _cls("tensorflow.serving.ClassificationRequest")
ClassificationResponse = _cls("tensorflow.serving.ClassificationResponse")
RegressionRequest = _cls("tensorflow.serving.RegressionRequest")
RegressionResponse = _cls("tensorflow.serving.RegressionResponse")
SignatureDefMap = _cls("tensorflow.serving.SignatureDefMap")
GetModelMetadataRequest = _cls("tensorflow.serving.GetModelMetadataRequest")
GetModelMetadataResponse = _cls("tensorflow.serving.GetModelMetadataResponse")
GetModelStatusRequest = _cls("tensorflow.serving.GetModelStatusRequest")
GetModelStatusResponse = _cls("tensorflow.serving.GetModelStatusResponse")
ModelVersionStatus = _cls("tensorflow.serving.ModelVersionStatus")
