"""``plantserve serve``: a TensorFlow Serving-compatible model server for one machine.

It loads SavedModels as TF Serving does (a MetaGraph in a TensorFlow session, through TensorFlow's C
API, without importing its Python package) and speaks TF Serving's gRPC and REST APIs with TF
Serving's semantics (see ``shared/TFSERVING.md``): the same flags, model config, version policies,
labels, error codes and messages, warmup, metrics and batching. Modules:

- ``flags``: tensorflow_model_server's flags, declared once as the frozen ``ServerSettings`` (with
  ``serving.settings``) and parsed with TF Serving's rules;
- ``startup``: flag combinations and config files, checked before TensorFlow loads;
- ``config``: ``ModelServerConfig`` building and validation;
- ``versions``: version directories on disk and version policies;
- ``tfc``: TensorFlow's C API (load a SavedModel into a session, run it by tensor names);
- ``servable``, ``warmup``, ``tfrecord``, ``batching``: a loaded version, its warmup replay, batching
  (messages and tensors: ``serving.protocol``);
- ``monitor``, ``manager``, ``sharing``, ``source``: version states, loading and unloading, polling;
- ``inference`` with ``predict`` and ``examples``: Predict/Classify/Regress/MultiInference/metadata/status
  on protos, TF Serving's checks in its order, shared by both front ends;
- ``grpc_api``, ``profiler``: the gRPC front end and the profiler service;
- ``rest``, ``rest_server``, ``json_request``, ``json_response``: the REST API and its evented HTTP server;
- ``metrics``: TF Serving's Prometheus page;
- ``app``: start-up and shutdown; ``cli``: the subcommand entry point.
"""
__all__: list[str] = []
