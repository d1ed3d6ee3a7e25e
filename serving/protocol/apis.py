"""TF Serving's request and response messages (``tensorflow_serving/apis/*.proto``), declared by full
name and field number.

- model.proto: ``ModelSpec``; predict.proto; input.proto; classification.proto; regression.proto;
  inference.proto (MultiInference);
- get_model_metadata.proto (``SignatureDefMap``); get_model_status.proto and status.proto;
- model_management.proto (``ReloadConfigRequest``/``Response``);
- prediction_log.proto and logging.proto: the ``PredictionLog`` records of a warmup file (predict,
  classify, regress and multi-inference logs; the session-run and streamed logs are left out).

>>> MODEL_STATES["AVAILABLE"]
30
"""
from __future__ import annotations

from serving.protocol.schema import Enum, Message, ProtoFile

__all__ = ["APIS", "MODEL_STATES"]

#: ``ModelVersionStatus.State`` (get_model_status.proto).
MODEL_STATES: dict[str, int] = {"UNKNOWN": 0, "START": 10, "LOADING": 20, "AVAILABLE": 30, "UNLOADING": 40,
                                "END": 50}

_S = "tensorflow.serving."
_SPEC = _S + "ModelSpec"
_INPUT = _S + "Input"

APIS = ProtoFile("plantserve/protocol/tensorflow_serving_apis.proto", "tensorflow.serving", [
    Message("ModelSpec", name=(1, "string"), version=(2, "google.protobuf.Int64Value"),
            version_label=(4, "string"), signature_name=(3, "string"),
            oneofs={"version_choice": ("version", "version_label")}),
    # predict.proto
    Message("PredictRequest", model_spec=(1, _SPEC), inputs=(2, "map<string, tensorflow.TensorProto>"),
            output_filter=(3, "repeated string")),
    Message("PredictResponse", model_spec=(2, _SPEC), outputs=(1, "map<string, tensorflow.TensorProto>")),
    # input.proto
    Message("ExampleList", examples=(1, "repeated tensorflow.Example")),
    Message("ExampleListWithContext", examples=(1, "repeated tensorflow.Example"), context=(2, "tensorflow.Example")),
    Message("Input", example_list=(1, _S + "ExampleList"),
            example_list_with_context=(2, _S + "ExampleListWithContext"),
            oneofs={"kind": ("example_list", "example_list_with_context")}),
    # classification.proto
    Message("Class", label=(1, "string"), score=(2, "float")),
    Message("Classifications", classes=(1, "repeated tensorflow.serving.Class")),
    Message("ClassificationResult", classifications=(1, "repeated tensorflow.serving.Classifications")),
    Message("ClassificationRequest", model_spec=(1, _SPEC), input=(2, _INPUT)),
    Message("ClassificationResponse", model_spec=(2, _SPEC), result=(1, _S + "ClassificationResult")),
    # regression.proto
    Message("Regression", value=(1, "float")),
    Message("RegressionResult", regressions=(1, "repeated tensorflow.serving.Regression")),
    Message("RegressionRequest", model_spec=(1, _SPEC), input=(2, _INPUT)),
    Message("RegressionResponse", model_spec=(2, _SPEC), result=(1, _S + "RegressionResult")),
    # inference.proto
    Message("InferenceTask", model_spec=(1, _SPEC), method_name=(2, "string")),
    Message("InferenceResult", model_spec=(1, _SPEC), classification_result=(2, _S + "ClassificationResult"),
            regression_result=(3, _S + "RegressionResult"),
            oneofs={"result": ("classification_result", "regression_result")}),
    Message("MultiInferenceRequest", tasks=(1, "repeated tensorflow.serving.InferenceTask"), input=(2, _INPUT)),
    Message("MultiInferenceResponse", results=(1, "repeated tensorflow.serving.InferenceResult")),
    # get_model_metadata.proto
    Message("SignatureDefMap", signature_def=(1, "map<string, tensorflow.SignatureDef>")),
    Message("GetModelMetadataRequest", model_spec=(1, _SPEC), metadata_field=(2, "repeated string")),
    Message("GetModelMetadataResponse", model_spec=(1, _SPEC),
            metadata=(2, "map<string, google.protobuf.Any>")),
    # status.proto, get_model_status.proto
    Message("StatusProto", error_code=(1, "tensorflow.error.Code", "error_code"),
            error_message=(2, "string", "error_message")),
    Message("GetModelStatusRequest", model_spec=(1, _SPEC)),
    Message("ModelVersionStatus", version=(1, "int64"), state=(2, _S + "ModelVersionStatus.State"),
            status=(3, _S + "StatusProto")),
    Enum("ModelVersionStatus.State", MODEL_STATES),
    Message("GetModelStatusResponse",
            model_version_status=(1, "repeated tensorflow.serving.ModelVersionStatus", "model_version_status")),
    # model_management.proto
    Message("ReloadConfigRequest", config=(1, _S + "ModelServerConfig"), metric_names=(2, "repeated string")),
    Message("ReloadConfigResponse", status=(1, _S + "StatusProto"), metric=(2, "repeated tensorflow.serving.Metric")),
    Message("Metric", name=(1, "string"), int64_value_increase=(2, "int64"),
            oneofs={"value_increase": ("int64_value_increase",)}),
    # logging.proto, prediction_log.proto
    Message("LogMetadata", model_spec=(1, _SPEC), sampling_config=(2, _S + "SamplingConfig"),
            saved_model_tags=(3, "repeated string"), timestamp_secs=(4, "int64"), dc=(5, "string"),
            request_origin=(6, "string"), request_criticality=(7, "string"),
            safe_aggregation_privacy_key=(8, "int64")),
    Message("ClassifyLog", request=(1, _S + "ClassificationRequest"), response=(2, _S + "ClassificationResponse")),
    Message("RegressLog", request=(1, _S + "RegressionRequest"), response=(2, _S + "RegressionResponse")),
    Message("PredictLog", request=(1, _S + "PredictRequest"), response=(2, _S + "PredictResponse")),
    Message("MultiInferenceLog", request=(1, _S + "MultiInferenceRequest"),
            response=(2, _S + "MultiInferenceResponse")),
    Message("PredictionLog", log_metadata=(1, _S + "LogMetadata"), classify_log=(2, _S + "ClassifyLog"),
            regress_log=(3, _S + "RegressLog"), predict_log=(6, _S + "PredictLog"),
            multi_inference_log=(4, _S + "MultiInferenceLog"),
            oneofs={"log_type": ("classify_log", "regress_log", "predict_log", "multi_inference_log")}),
])
