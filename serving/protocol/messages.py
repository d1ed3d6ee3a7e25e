"""The message classes of every TF Serving message plantserve speaks, from one private pool.

Same full names and field numbers as TensorFlow's and tensorflow-serving-api's generated modules,
so the bytes are the same both ways (tests/protocol checks every message against the official
stubs); the declarations are in :mod:`~serving.protocol.framework`, :mod:`~serving.protocol.apis`
and :mod:`~serving.protocol.config`.

>>> spec = ModelSpec(name="fuel", version_label="stable")
>>> ModelSpec.FromString(spec.SerializeToString()).version_label
'stable'
"""
from __future__ import annotations

from google.protobuf.message import Message

from serving.protocol.apis import APIS
from serving.protocol.config import CONFIG
from serving.protocol.framework import ERROR_CODES, TENSORFLOW
from serving.protocol.schema import build_pool, message_class

__all__ = [
    "POOL", "Message", "by_name",
    # tensorflow
    "TensorShapeProto", "TensorProto", "ResourceHandleProto", "VariantTensorDataProto", "BytesList", "FloatList",
    "Int64List", "Feature", "Features", "Example", "TensorInfo", "SignatureDef", "StructuredValue", "TypeSpecProto",
    "TensorSpecProto", "BoundedTensorSpecProto", "ListValue", "TupleValue", "DictValue", "PairValue",
    "NamedTupleValue", "NoneValue",
    # tensorflow.serving APIs
    "Int64Value", "Any", "ModelSpec", "PredictRequest", "PredictResponse", "ExampleList", "ExampleListWithContext",
    "Input", "Class", "Classifications", "ClassificationResult", "ClassificationRequest", "ClassificationResponse",
    "Regression", "RegressionResult", "RegressionRequest", "RegressionResponse", "InferenceTask", "InferenceResult",
    "MultiInferenceRequest", "MultiInferenceResponse", "SignatureDefMap", "GetModelMetadataRequest",
    "GetModelMetadataResponse", "StatusProto", "GetModelStatusRequest", "GetModelStatusResponse",
    "ModelVersionStatus", "ReloadConfigRequest", "ReloadConfigResponse", "Metric", "LogMetadata", "ClassifyLog",
    "RegressLog", "PredictLog", "MultiInferenceLog", "PredictionLog",
    # tensorflow.serving configs
    "ModelServerConfig", "ModelConfigList", "ModelConfig", "ServableVersionPolicy", "LoggingConfig",
    "LogCollectorConfig", "SamplingConfig", "PerTaskSamplingConfig", "SSLConfig", "MonitoringConfig",
    "PrometheusConfig", "BatchingParameters",
]

POOL = build_pool([ERROR_CODES, TENSORFLOW, CONFIG, APIS])


def by_name(full_name: str) -> type[Message]:
    """The class of a message declared here, by full name (``"tensorflow.serving.ModelSpec"``)."""
    return message_class(POOL, full_name)


_TF, _SV = "tensorflow.", "tensorflow.serving."

TensorShapeProto = by_name(_TF + "TensorShapeProto")
TensorProto = by_name(_TF + "TensorProto")
ResourceHandleProto = by_name(_TF + "ResourceHandleProto")
VariantTensorDataProto = by_name(_TF + "VariantTensorDataProto")
BytesList = by_name(_TF + "BytesList")
FloatList = by_name(_TF + "FloatList")
Int64List = by_name(_TF + "Int64List")
Feature = by_name(_TF + "Feature")
Features = by_name(_TF + "Features")
Example = by_name(_TF + "Example")
TensorInfo = by_name(_TF + "TensorInfo")
SignatureDef = by_name(_TF + "SignatureDef")
StructuredValue = by_name(_TF + "StructuredValue")
TypeSpecProto = by_name(_TF + "TypeSpecProto")
TensorSpecProto = by_name(_TF + "TensorSpecProto")
BoundedTensorSpecProto = by_name(_TF + "BoundedTensorSpecProto")
ListValue = by_name(_TF + "ListValue")
TupleValue = by_name(_TF + "TupleValue")
DictValue = by_name(_TF + "DictValue")
PairValue = by_name(_TF + "PairValue")
NamedTupleValue = by_name(_TF + "NamedTupleValue")
NoneValue = by_name(_TF + "NoneValue")

Int64Value = by_name("google.protobuf.Int64Value")
Any = by_name("google.protobuf.Any")
ModelSpec = by_name(_SV + "ModelSpec")
PredictRequest = by_name(_SV + "PredictRequest")
PredictResponse = by_name(_SV + "PredictResponse")
ExampleList = by_name(_SV + "ExampleList")
ExampleListWithContext = by_name(_SV + "ExampleListWithContext")
Input = by_name(_SV + "Input")
Class = by_name(_SV + "Class")
Classifications = by_name(_SV + "Classifications")
ClassificationResult = by_name(_SV + "ClassificationResult")
ClassificationRequest = by_name(_SV + "ClassificationRequest")
ClassificationResponse = by_name(_SV + "ClassificationResponse")
Regression = by_name(_SV + "Regression")
RegressionResult = by_name(_SV + "RegressionResult")
RegressionRequest = by_name(_SV + "RegressionRequest")
RegressionResponse = by_name(_SV + "RegressionResponse")
InferenceTask = by_name(_SV + "InferenceTask")
InferenceResult = by_name(_SV + "InferenceResult")
MultiInferenceRequest = by_name(_SV + "MultiInferenceRequest")
MultiInferenceResponse = by_name(_SV + "MultiInferenceResponse")
SignatureDefMap = by_name(_SV + "SignatureDefMap")
GetModelMetadataRequest = by_name(_SV + "GetModelMetadataRequest")
GetModelMetadataResponse = by_name(_SV + "GetModelMetadataResponse")
StatusProto = by_name(_SV + "StatusProto")
GetModelStatusRequest = by_name(_SV + "GetModelStatusRequest")
GetModelStatusResponse = by_name(_SV + "GetModelStatusResponse")
ModelVersionStatus = by_name(_SV + "ModelVersionStatus")
ReloadConfigRequest = by_name(_SV + "ReloadConfigRequest")
ReloadConfigResponse = by_name(_SV + "ReloadConfigResponse")
Metric = by_name(_SV + "Metric")
LogMetadata = by_name(_SV + "LogMetadata")
ClassifyLog = by_name(_SV + "ClassifyLog")
RegressLog = by_name(_SV + "RegressLog")
PredictLog = by_name(_SV + "PredictLog")
MultiInferenceLog = by_name(_SV + "MultiInferenceLog")
PredictionLog = by_name(_SV + "PredictionLog")

ModelServerConfig = by_name(_SV + "ModelServerConfig")
ModelConfigList = by_name(_SV + "ModelConfigList")
ModelConfig = by_name(_SV + "ModelConfig")
ServableVersionPolicy = by_name(_SV + "FileSystemStoragePathSourceConfig.ServableVersionPolicy")
LoggingConfig = by_name(_SV + "LoggingConfig")
LogCollectorConfig = by_name(_SV + "LogCollectorConfig")
SamplingConfig = by_name(_SV + "SamplingConfig")
PerTaskSamplingConfig = by_name(_SV + "PerTaskSamplingConfig")
SSLConfig = by_name(_SV + "SSLConfig")
MonitoringConfig = by_name(_SV + "MonitoringConfig")
PrometheusConfig = by_name(_SV + "PrometheusConfig")
BatchingParameters = by_name(_SV + "BatchingParameters")
