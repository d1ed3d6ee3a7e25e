"""TF Serving's wire format without TensorFlow: one definition of every message, one tensor codec.

The client, the sidecar and the server all speak through this package; none of it imports
TensorFlow or tensorflow-serving-api (their generated modules are used only by the tests, to check
these byte for byte).

- ``schema``: messages declared by their facts (full name, field name, number, type), built in a
  private descriptor pool; ``framework``, ``apis``, ``config``: the declarations;
- ``messages``: the message classes (``PredictRequest``, ``ModelServerConfig``, ``PredictionLog``...);
- ``dtypes`` and ``tensors``: ``tensorflow.DataType`` and the numpy ↔ ``TensorProto`` codec;
- ``services``: method paths, client stubs and servicer registration for PredictionService and
  ModelService;
- ``textproto``: TF Serving's text-format config files.

>>> import numpy as np
>>> from serving.protocol import PredictRequest, to_tensor_proto
>>> request = PredictRequest()
>>> request.model_spec.name = "fuel"
>>> _ = to_tensor_proto(np.ones((1, 7), np.float32), proto=request.inputs["x"])
>>> len(request.SerializeToString())
57
"""
from __future__ import annotations

from serving.protocol.messages import (ModelServerConfig, PredictionLog, PredictRequest, PredictResponse,
                                       SignatureDefMap, TensorProto)
from serving.protocol.tensors import Declared, TensorError, declared, to_ndarray, to_tensor_proto

__all__ = ["PredictRequest", "PredictResponse", "TensorProto", "SignatureDefMap", "ModelServerConfig",
           "PredictionLog", "TensorError", "Declared", "declared", "to_ndarray", "to_tensor_proto"]
