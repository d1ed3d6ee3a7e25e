"""TF Serving's config messages, as its text-format files and ``HandleReloadConfigRequest`` carry them.

- ``ModelServerConfig`` → ``ModelConfigList`` → ``ModelConfig`` with the version policy
  (``latest``/``all``/``specific``), ``version_labels`` and ``logging_config``
  (config/model_server_config.proto, file_system_storage_path_source.proto, logging_config.proto,
  log_collector_config.proto);
- ``SSLConfig`` (config/ssl_config.proto), ``MonitoringConfig``/``PrometheusConfig``
  (config/monitoring_config.proto), ``BatchingParameters``
  (servables/tensorflow/session_bundle_config.proto).

>>> [d.name for d in CONFIG.declarations if d.name.startswith("Model")]
['ModelServerConfig', 'ModelConfigList', 'ModelConfig', 'ModelType']
"""
from __future__ import annotations

from serving.protocol.schema import Enum, Message, ProtoFile

__all__ = ["CONFIG"]

_S = "tensorflow.serving."
_POLICY = "FileSystemStoragePathSourceConfig.ServableVersionPolicy"
_I64, _STR, _BOOL = "google.protobuf.Int64Value", "google.protobuf.StringValue", "google.protobuf.BoolValue"

CONFIG = ProtoFile("plantserve/protocol/tensorflow_serving_config.proto", "tensorflow.serving", [
    Message("ModelServerConfig", model_config_list=(1, _S + "ModelConfigList"),
            custom_model_config=(2, "google.protobuf.Any"),
            oneofs={"config": ("model_config_list", "custom_model_config")}),
    Message("ModelConfigList", config=(1, "repeated tensorflow.serving.ModelConfig")),
    Message("ModelConfig", name=(1, "string"), base_path=(2, "string"), model_type=(3, _S + "ModelType"),
            model_platform=(4, "string"), model_version_policy=(7, _S + _POLICY),
            version_labels=(8, "map<string, int64>"), logging_config=(6, _S + "LoggingConfig")),
    Enum("ModelType", {"MODEL_TYPE_UNSPECIFIED": 0, "TENSORFLOW": 1, "OTHER": 2}),
    # Only the nested policy is used; the outer message is its namespace here.
    Message("FileSystemStoragePathSourceConfig"),
    Message(_POLICY, latest=(100, f"{_S}{_POLICY}.Latest"), all=(101, f"{_S}{_POLICY}.All"),
            specific=(102, f"{_S}{_POLICY}.Specific"), oneofs={"policy_choice": ("latest", "all", "specific")}),
    Message(f"{_POLICY}.Latest", num_versions=(1, "uint32")),
    Message(f"{_POLICY}.All"),
    Message(f"{_POLICY}.Specific", versions=(1, "repeated int64")),
    Message("LoggingConfig", log_collector_config=(1, _S + "LogCollectorConfig"),
            sampling_config=(2, _S + "SamplingConfig"), custom_logging_config=(3, "google.protobuf.Any")),
    Message("LogCollectorConfig", type=(1, "string"), filename_prefix=(2, "string")),
    Message("SamplingConfig", sampling_rate=(1, "double"),
            per_task_sampling_configs=(3, "repeated tensorflow.serving.PerTaskSamplingConfig"),
            attributes=(2, "int32")),
    Message("PerTaskSamplingConfig", dc=(1, "string"), task_index=(2, "optional int32"),
            sampling_rate=(3, "double")),
    Message("SSLConfig", server_key=(1, "string"), server_cert=(2, "string"), custom_ca=(3, "string"),
            client_verify=(4, "bool")),
    Message("MonitoringConfig", prometheus_config=(1, _S + "PrometheusConfig")),
    Message("PrometheusConfig", enable=(1, "bool"), path=(2, "string")),
    Message("BatchingParameters", max_batch_size=(1, _I64), batch_timeout_micros=(2, _I64),
            max_enqueued_batches=(3, _I64), num_batch_threads=(4, _I64), thread_pool_name=(5, _STR),
            allowed_batch_sizes=(6, "repeated int64"), pad_variable_length_inputs=(7, "bool"),
            max_execution_batch_size=(8, _I64), enable_large_batch_splitting=(9, _BOOL),
            batch_padding_policy=(10, _STR)),
])
