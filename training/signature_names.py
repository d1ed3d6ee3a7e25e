"""Keep the tensor names of the prediction signatures when more signatures are exported.

``tf.saved_model.save`` calls each signature function once, in sorted order of the signature
names, and every call takes the next free ``StatefulPartitionedCall_N`` node name. A new
``explain`` signature sorts before ``regress`` and ``serving_default``, so their output tensors
would be renamed (``StatefulPartitionedCall_1:0`` -> ``StatefulPartitionedCall_2:0``), and the
SignatureDefs that GetModelMetadata shows existing clients would change.

:func:`restore_tensor_names` renames graph nodes back: the prediction signatures get the names a
reference export without the extra signatures gave them, and the nodes that held those names
take the freed ones. Every reference to a renamed node (node inputs, every SignatureDef, the
saver, collections) is rewritten, so TF1 sessions and TF Serving resolve the same tensors.

Example::

    >>> mapping = permutation({"B": "A"}, {"A", "B", "C"})
    >>> sorted(mapping.items())
    [('A', 'B'), ('B', 'A')]
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["signature_defs", "restore_tensor_names", "permutation"]


def _node(tensor_name: str) -> str:
    return tensor_name.lstrip("^").split(":")[0]


def _renamed(tensor_name: str, mapping: dict[str, str]) -> str:
    control = tensor_name.startswith("^")
    node, sep, port = tensor_name.lstrip("^").partition(":")
    return ("^" if control else "") + mapping.get(node, node) + sep + port


def signature_defs(export_dir: Path) -> dict[str, Any]:
    """The SignatureDef protos of a SavedModel's first MetaGraph, by key."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel.FromString((Path(export_dir) / "saved_model.pb").read_bytes())
    return dict(saved.meta_graphs[0].signature_def)


def permutation(wanted: dict[str, str], existing: set[str]) -> dict[str, str]:
    """``wanted`` (current node name -> name it must have) completed into a rename without clashes:
    a node that holds a wanted name and is not renamed itself moves to a name that was freed."""
    if len(set(wanted.values())) != len(wanted):
        raise ValueError(f"two nodes cannot both be renamed to one name: {wanted}")
    mapping = {old: new for old, new in wanted.items() if old != new}
    targets = set(mapping.values())
    freed = sorted(old for old in mapping if old not in targets)
    displaced = sorted(new for new in targets if new in existing and new not in mapping)
    if len(displaced) > len(freed):  # cannot happen for a bijection, kept as a guard
        raise ValueError(f"no free names for {displaced}")
    mapping.update(zip(displaced, freed))
    return mapping


def restore_tensor_names(export_dir: Path, reference: dict[str, Any]) -> dict[str, str]:
    """Rename nodes of ``export_dir`` so the signatures in ``reference`` have their tensor names
    again; returns the node rename applied (empty when nothing moved)."""
    from tensorflow.core.protobuf import saved_model_pb2

    pb_path = Path(export_dir) / "saved_model.pb"
    saved = saved_model_pb2.SavedModel.FromString(pb_path.read_bytes())
    meta = saved.meta_graphs[0]
    wanted: dict[str, str] = {}
    for key, ref in reference.items():
        current = meta.signature_def[key]
        for kind in ("inputs", "outputs"):
            for alias, info in getattr(ref, kind).items():
                now, want = _node(getattr(current, kind)[alias].name), _node(info.name)
                if wanted.setdefault(now, want) != want:
                    raise ValueError(f"node {now} would need two names: {wanted[now]} and {want}")
    mapping = permutation(wanted, {n.name for n in meta.graph_def.node})
    if not mapping:
        return {}
    for node in meta.graph_def.node:
        node.name = mapping.get(node.name, node.name)
        node.input[:] = [_renamed(i, mapping) for i in node.input]
    for sig in meta.signature_def.values():
        for infos in (sig.inputs, sig.outputs):
            for info in infos.values():
                info.name = _renamed(info.name, mapping)
    saver = meta.saver_def
    saver.filename_tensor_name = _renamed(saver.filename_tensor_name, mapping)
    saver.save_tensor_name = _renamed(saver.save_tensor_name, mapping)
    saver.restore_op_name = _renamed(saver.restore_op_name, mapping)
    for collection in meta.collection_def.values():
        if collection.HasField("node_list"):
            collection.node_list.value[:] = [_renamed(v, mapping) for v in collection.node_list.value]
    pb_path.write_bytes(saved.SerializeToString())
    return mapping
