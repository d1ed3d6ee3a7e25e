"""``plantserve predict``: call a model over gRPC or REST and print the answers as a table.

    plantserve predict fuel --target localhost:8500 --csv cars.csv
    plantserve predict defect --target http://localhost:8501 --image a.png b.png --classify
    plantserve predict fuel --target dns:///plantserve-grpc:8500 --status

A target starting with ``http://`` or ``https://`` uses REST, anything else gRPC. The request
addresses the ``stable`` label unless ``--version``, ``--label`` or ``--latest`` says otherwise
(``PLANTSERVE_CLIENT_DEFAULT_LABEL`` changes the default; empty means latest). Every connection
flag has its ``PLANTSERVE_CLIENT_*`` env variable (``--help`` lists them).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from serving.client.errors import ClientError, InvalidInput
from serving.client.files import Batch, read_csv, read_images, read_json
from serving import settings as spec
from serving.client.settings import ClientSettings
from serving.client.table import render

__all__ = ["add_arguments", "add_connection_arguments", "run", "settings_from_args", "client_for", "read_batch"]

log = logging.getLogger(__name__)


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """What every client command takes: which version, the output, and :class:`ClientSettings` (the target,
    the deadline, TLS, ...; declared once there, flags over ``PLANTSERVE_CLIENT_*`` env)."""
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, help="address this version")
    which.add_argument("--label", help="address this version label (default: stable)")
    which.add_argument("--latest", action="store_true", help="address the newest available version (no label)")
    parser.add_argument("--output", choices=["table", "json"], default="table")
    spec.add_arguments(parser, ClientSettings)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model name, e.g. fuel or defect")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--json", type=Path, help="inputs as JSON (columns or a list of row objects)")
    source.add_argument("--csv", type=Path, help="inputs as CSV with a header; extra columns are shown as context")
    source.add_argument("--image", type=Path, nargs="+", help="PNG/JPEG images for an image input")
    source.add_argument("--status", action="store_true", help="print every version's state instead")
    source.add_argument("--metadata", action="store_true", help="print the signatures instead")
    parser.add_argument("--signature", default=None, help="signature name (default serving_default; "
                        "classify with --classify)")
    parser.add_argument("--classify", action="store_true", help="use the Classify API with tf.Examples")
    add_connection_arguments(parser)


def settings_from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> ClientSettings:
    """Flags over ``PLANTSERVE_CLIENT_*`` env over defaults; ``--latest`` means no default label."""
    return spec.build(ClientSettings, args, environ, **({"default_label": None} if args.latest else {}))


def client_for(settings: ClientSettings):
    """A PredictClient for a gRPC target, a RestClient for an http(s):// one."""
    if settings.target.startswith(("http://", "https://")):
        from serving.client.rest_client import RestClient

        return RestClient(settings)
    from serving.client.grpc_client import PredictClient

    return PredictClient(settings)


def read_batch(args: argparse.Namespace, client: Any, signature: str, missing: str = "") -> Batch:
    """The rows of --json, --csv or --image, typed by ``signature``'s inputs as the server describes them;
    ``missing`` is added to the error when the model has no such signature."""
    meta = client.metadata(args.model, version=args.version, label=args.label)
    if signature not in meta.signatures:
        raise InvalidInput(f"model {args.model!r} has no signature {signature!r}; it has {sorted(meta.signatures)}"
                           + (f": {missing}" if missing else ""))
    sig = meta.signatures[signature]
    if args.json:
        return read_json(args.json, sig)
    if args.csv:
        return read_csv(args.csv, sig)
    return read_images(args.image, sig)


def _execute(args: argparse.Namespace, client: Any) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    where = {"version": args.version, "label": args.label}
    if args.status:
        rows = client.status(args.model, version=args.version)
        return ({"version": np.array([r.version for r in rows]), "state": np.array([r.state for r in rows]),
                 "error": np.array([r.error_message or r.error_code for r in rows])}, {})
    if args.metadata:
        meta = client.metadata(args.model, **where)
        names, kinds, specs = [], [], []
        for sig in meta.signatures.values():
            if sig.name.startswith("__"):  # e.g. __saved_model_init_op: not callable
                continue
            for kind, tensors in (("input", sig.inputs), ("output", sig.outputs)):
                for name, tensor in tensors.items():
                    names.append(f"{sig.name}/{name}")
                    kinds.append(kind)
                    specs.append(f"{tensor.dtype} {list(tensor.shape) if tensor.shape is not None else '?'}")
        return {"tensor": np.array(names), "kind": np.array(kinds), "spec": np.array(specs)}, {}
    if args.classify:
        # Classify takes tf.Examples; the example features use the predict signature's input names.
        batch = read_batch(args, client, "serving_default")
        return client.classify(args.model, batch.inputs, signature=args.signature or "classify", **where), batch.context
    batch = read_batch(args, client, args.signature or "serving_default")
    return client.predict(args.model, batch.inputs, signature=args.signature, **where), batch.context


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        print(f"plantserve predict: {exc}", file=sys.stderr)
        return 2
    client = client_for(settings)
    try:
        outputs, context = _execute(args, client)
    except (InvalidInput, FileNotFoundError) as exc:
        print(f"plantserve predict: {exc}", file=sys.stderr)
        return 2
    except ClientError as exc:
        print(f"plantserve predict: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if args.output == "json":
        print(json.dumps({**context, **{k: _jsonable(v) for k, v in outputs.items()}}))
    else:
        print(render(outputs, context))
    return 0


def _jsonable(array: np.ndarray) -> Any:
    if array.dtype == object:
        return [[_jsonable_scalar(x) for x in np.ravel(row)] if np.ndim(row) else _jsonable_scalar(row)
                for row in array]
    return array.tolist()


def _jsonable_scalar(value: Any) -> Any:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
