"""TensorFlow's own messages that TF Serving's APIs carry, declared by full name and field number.

- ``tensorflow.error.Code`` (error_codes.proto);
- ``DataType``, ``TensorShapeProto``, ``TensorProto`` with its resource and variant values
  (types.proto, tensor_shape.proto, tensor.proto, resource_handle.proto);
- ``Example`` and its features (example.proto, feature.proto);
- ``SignatureDef`` and ``TensorInfo`` with the dense, COO-sparse and composite encodings, and the
  ``TypeSpecProto``/``StructuredValue`` tree a composite tensor's spec is written in (meta_graph.proto,
  struct.proto).

>>> [d.name for d in TENSORFLOW.declarations][:3]
['DataType', 'TensorShapeProto', 'TensorShapeProto.Dim']
"""
from __future__ import annotations

from serving.protocol.schema import Enum, Message, ProtoFile

__all__ = ["ERROR_CODES", "TENSORFLOW", "CODES", "DATA_TYPES"]

_BASE: dict[str, int] = {
    "DT_INVALID": 0, "DT_FLOAT": 1, "DT_DOUBLE": 2, "DT_INT32": 3, "DT_UINT8": 4, "DT_INT16": 5, "DT_INT8": 6,
    "DT_STRING": 7, "DT_COMPLEX64": 8, "DT_INT64": 9, "DT_BOOL": 10, "DT_QINT8": 11, "DT_QUINT8": 12,
    "DT_QINT32": 13, "DT_BFLOAT16": 14, "DT_QINT16": 15, "DT_QUINT16": 16, "DT_UINT16": 17, "DT_COMPLEX128": 18,
    "DT_HALF": 19, "DT_RESOURCE": 20, "DT_VARIANT": 21, "DT_UINT32": 22, "DT_UINT64": 23,
    "DT_FLOAT8_E5M2": 24, "DT_FLOAT8_E4M3FN": 25, "DT_FLOAT8_E4M3FNUZ": 26, "DT_FLOAT8_E4M3B11FNUZ": 27,
    "DT_FLOAT8_E5M2FNUZ": 28, "DT_INT4": 29, "DT_UINT4": 30, "DT_INT2": 31, "DT_UINT2": 32, "DT_FLOAT4_E2M1FN": 33,
}
#: Every ``tensorflow.DataType`` value, the ``*_REF`` ones (base + 100) included.
DATA_TYPES: dict[str, int] = {**_BASE, **{f"{k}_REF": v + 100 for k, v in _BASE.items() if v}}

#: Canonical status codes, by name (tensorflow.error.Code; google.rpc.Code has the same numbers).
CODES: dict[str, int] = {
    "OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "UNAUTHENTICATED": 16, "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9, "ABORTED": 10, "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12, "INTERNAL": 13,
    "UNAVAILABLE": 14, "DATA_LOSS": 15,
    "DO_NOT_USE_RESERVED_FOR_FUTURE_EXPANSION_USE_DEFAULT_IN_SWITCH_INSTEAD_": 20,
}

ERROR_CODES = ProtoFile("plantserve/protocol/tensorflow_error.proto", "tensorflow.error", [Enum("Code", CODES)])

_T = "tensorflow."
_STRUCTURED = "tensorflow.StructuredValue"

TENSORFLOW = ProtoFile("plantserve/protocol/tensorflow.proto", "tensorflow", [
    Enum("DataType", DATA_TYPES),
    # tensor_shape.proto
    Message("TensorShapeProto", dim=(2, "repeated tensorflow.TensorShapeProto.Dim"), unknown_rank=(3, "bool")),
    Message("TensorShapeProto.Dim", size=(1, "int64"), name=(2, "string")),
    # resource_handle.proto
    Message("ResourceHandleProto", device=(1, "string"), container=(2, "string"), name=(3, "string"),
            hash_code=(4, "uint64"), maybe_type_name=(5, "string"),
            dtypes_and_shapes=(6, "repeated tensorflow.ResourceHandleProto.DtypeAndShape")),
    Message("ResourceHandleProto.DtypeAndShape", dtype=(1, _T + "DataType"), shape=(2, _T + "TensorShapeProto")),
    # tensor.proto
    Message("TensorProto",
            dtype=(1, _T + "DataType"), tensor_shape=(2, _T + "TensorShapeProto"), version_number=(3, "int32"),
            tensor_content=(4, "bytes"), half_val=(13, "repeated int32"), float_val=(5, "repeated float"),
            double_val=(6, "repeated double"), int_val=(7, "repeated int32"), string_val=(8, "repeated bytes"),
            scomplex_val=(9, "repeated float"), int64_val=(10, "repeated int64"), bool_val=(11, "repeated bool"),
            dcomplex_val=(12, "repeated double"),
            resource_handle_val=(14, "repeated tensorflow.ResourceHandleProto"),
            variant_val=(15, "repeated tensorflow.VariantTensorDataProto"),
            uint32_val=(16, "repeated uint32"), uint64_val=(17, "repeated uint64"), float8_val=(18, "bytes")),
    Message("VariantTensorDataProto", type_name=(1, "string"), metadata=(2, "bytes"),
            tensors=(3, "repeated tensorflow.TensorProto")),
    # feature.proto, example.proto
    Message("BytesList", value=(1, "repeated bytes")),
    Message("FloatList", value=(1, "repeated float")),
    Message("Int64List", value=(1, "repeated int64")),
    Message("Feature", bytes_list=(1, _T + "BytesList"), float_list=(2, _T + "FloatList"),
            int64_list=(3, _T + "Int64List"), oneofs={"kind": ("bytes_list", "float_list", "int64_list")}),
    Message("Features", feature=(1, "map<string, tensorflow.Feature>")),
    Message("Example", features=(1, _T + "Features")),
    # meta_graph.proto: what GetModelMetadata returns
    Message("TensorInfo", name=(1, "string"), coo_sparse=(4, "tensorflow.TensorInfo.CooSparse"),
            composite_tensor=(5, "tensorflow.TensorInfo.CompositeTensor"), dtype=(2, _T + "DataType"),
            tensor_shape=(3, _T + "TensorShapeProto"),
            oneofs={"encoding": ("name", "coo_sparse", "composite_tensor")}),
    Message("TensorInfo.CooSparse", values_tensor_name=(1, "string"), indices_tensor_name=(2, "string"),
            dense_shape_tensor_name=(3, "string")),
    Message("TensorInfo.CompositeTensor", type_spec=(1, "tensorflow.TypeSpecProto"),
            components=(2, "repeated tensorflow.TensorInfo")),
    Message("SignatureDef", inputs=(1, "map<string, tensorflow.TensorInfo>"),
            outputs=(2, "map<string, tensorflow.TensorInfo>"), method_name=(3, "string"),
            defaults=(4, "map<string, tensorflow.TensorProto>")),
    # struct.proto: a composite tensor's TypeSpec
    Message("StructuredValue",
            none_value=(1, "tensorflow.NoneValue"), float64_value=(11, "double"), int64_value=(12, "sint64"),
            string_value=(13, "string"), bool_value=(14, "bool"), tensor_shape_value=(31, _T + "TensorShapeProto"),
            tensor_dtype_value=(32, _T + "DataType"), tensor_spec_value=(33, _T + "TensorSpecProto"),
            type_spec_value=(34, _T + "TypeSpecProto"), bounded_tensor_spec_value=(35, _T + "BoundedTensorSpecProto"),
            list_value=(51, _T + "ListValue"), tuple_value=(52, _T + "TupleValue"), dict_value=(53, _T + "DictValue"),
            named_tuple_value=(54, _T + "NamedTupleValue"), tensor_value=(55, _T + "TensorProto"),
            numpy_value=(56, _T + "TensorProto"),
            oneofs={"kind": ("none_value", "float64_value", "int64_value", "string_value", "bool_value",
                             "tensor_shape_value", "tensor_dtype_value", "tensor_spec_value", "type_spec_value",
                             "bounded_tensor_spec_value", "list_value", "tuple_value", "dict_value",
                             "named_tuple_value", "tensor_value", "numpy_value")}),
    Message("NoneValue"),
    Message("ListValue", values=(1, "repeated " + _STRUCTURED)),
    Message("TupleValue", values=(1, "repeated " + _STRUCTURED)),
    Message("DictValue", fields=(1, "map<string, tensorflow.StructuredValue>")),
    Message("PairValue", key=(1, "string"), value=(2, _STRUCTURED)),
    Message("NamedTupleValue", name=(1, "string"), values=(2, "repeated tensorflow.PairValue")),
    Message("TensorSpecProto", name=(1, "string"), shape=(2, _T + "TensorShapeProto"), dtype=(3, _T + "DataType")),
    Message("BoundedTensorSpecProto", name=(1, "string"), shape=(2, _T + "TensorShapeProto"),
            dtype=(3, _T + "DataType"), minimum=(4, _T + "TensorProto"), maximum=(5, _T + "TensorProto")),
    Message("TypeSpecProto", type_spec_class=(1, "tensorflow.TypeSpecProto.TypeSpecClass"),
            type_state=(2, _STRUCTURED), type_spec_class_name=(3, "string"), num_flat_components=(4, "int32")),
    Enum("TypeSpecProto.TypeSpecClass", {
        "UNKNOWN": 0, "SPARSE_TENSOR_SPEC": 1, "INDEXED_SLICES_SPEC": 2, "RAGGED_TENSOR_SPEC": 3,
        "TENSOR_ARRAY_SPEC": 4, "DATA_DATASET_SPEC": 5, "DATA_ITERATOR_SPEC": 6, "OPTIONAL_SPEC": 7,
        "PER_REPLICA_SPEC": 8, "VARIABLE_SPEC": 9, "ROW_PARTITION_SPEC": 10, "REGISTERED_TYPE_SPEC": 12,
        "EXTENSION_TYPE_SPEC": 13}),
])
