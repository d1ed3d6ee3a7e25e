"""``plantserve serve``: a TensorFlow Serving-compatible model server for one machine.

It loads SavedModels with TensorFlow and speaks TF Serving's gRPC and REST APIs with TF Serving's
semantics (see ``shared/TFSERVING.md``): the same flags, model config, version policies, labels,
error codes and messages, warmup, metrics and batching. Modules:

- ``flags``: tensorflow_model_server's flags, parsed once into a frozen ``ServerSettings``;
- ``config``: ``ModelServerConfig`` building and validation;
- ``versions``: version directories on disk and version policies;
- ``servable``, ``warmup``, ``batching``: running a loaded SavedModel (messages and tensors: ``serving.protocol``);
- ``monitor``, ``manager``, ``source``: version states, loading and unloading, polling;
- ``inference``: Predict/Classify/Regress/metadata/status on protos, shared by both front ends;
- ``grpc_api``, ``rest``, ``json_request``, ``json_response``: the two front ends;
- ``metrics``: TF Serving's Prometheus page;
- ``app``: start-up and shutdown; ``cli``: the subcommand entry point.
"""
__all__: list[str] = []
