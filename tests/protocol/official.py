"""Our declarations against the official generated modules (tensorflow, tensorflow-serving-api).

- ``message_names(file)``/``enum_names(file)``: what a declarations module declares;
- ``official_class(full_name)``/``official_enum``: the generated class or enum, from protobuf's default pool;
- ``compare_descriptor(ours, theirs)``: every field's name, number, type, label, json name, message or
  enum type and oneof, and every enum value; the only fields allowed to differ are ``OMITTED``;
- ``populate(message, variant)``: sets every field plantserve declares to a non-default value
  (one member of each oneof, chosen by ``variant``), recursively, so a byte comparison covers all;
- ``assert_same_bytes_both_ways(ours_cls, theirs_cls)``: populated on each side, parsed on the other,
  re-serialised deterministically: the same bytes and the same text form (no unknown fields).
"""
from __future__ import annotations

from google.protobuf import descriptor, descriptor_pool, message_factory, text_format
from google.protobuf.message import Message

from serving.protocol import messages
from serving.protocol.schema import Enum, ProtoFile
from serving.protocol.schema import Message as Declared

# Importing the official modules registers their descriptors in the default pool.
from tensorflow.core.example import example_pb2  # noqa: F401
from tensorflow.core.framework import tensor_pb2  # noqa: F401
from tensorflow.core.protobuf import meta_graph_pb2, struct_pb2  # noqa: F401
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2, get_model_status_pb2,  # noqa: F401
                                     inference_pb2, model_management_pb2, predict_pb2, prediction_log_pb2,
                                     regression_pb2)
from tensorflow_serving.config import model_server_config_pb2  # noqa: F401

#: Official fields plantserve leaves out on purpose (they stay intact as unknown fields if received).
OMITTED: dict[str, set[str]] = {
    # LLM streaming options of newer TF Serving versions; open-source TF Serving ignores them.
    "tensorflow.serving.PredictRequest": {"predict_streamed_options", "client_id", "request_options"},
    # Warmup replays predict/classify/regress/multi-inference logs only.
    "tensorflow.serving.PredictionLog": {"predict_streamed_log", "session_run_log"},
    # Only the nested ServableVersionPolicy is used.
    "tensorflow.serving.FileSystemStoragePathSourceConfig": {"servables", "servable_name", "base_path",
                                                             "file_system_poll_wait_seconds",
                                                             "fail_if_zero_versions_at_startup",
                                                             "servable_versions_always_present"},
}
_MAX_DEPTH = 4


def message_names(proto_file: ProtoFile) -> list[str]:
    """Full names of the messages a declarations module (framework, apis, config) declares."""
    return [f"{proto_file.package}.{d.name}" for d in proto_file.declarations if isinstance(d, Declared)]


def enum_names(proto_file: ProtoFile) -> list[str]:
    return [f"{proto_file.package}.{d.name}" for d in proto_file.declarations if isinstance(d, Enum)]


def official_enum(full_name: str) -> dict[str, int]:
    enum = descriptor_pool.Default().FindEnumTypeByName(full_name)
    return {v.name: v.number for v in enum.values}


def our_enum(full_name: str) -> dict[str, int]:
    return {v.name: v.number for v in messages.POOL.FindEnumTypeByName(full_name).values}


def official_class(full_name: str) -> type[Message]:
    return message_factory.GetMessageClass(descriptor_pool.Default().FindMessageTypeByName(full_name))


def _field_facts(f: descriptor.FieldDescriptor) -> tuple:
    kind = f.message_type.full_name if f.message_type else f.enum_type.full_name if f.enum_type else ""
    oneof = f.containing_oneof.name if f.containing_oneof else ""
    return f.number, f.type, f.is_repeated, f.json_name, kind, oneof


def compare_descriptor(ours: descriptor.Descriptor, theirs: descriptor.Descriptor) -> None:
    assert ours.full_name == theirs.full_name
    omitted = OMITTED.get(theirs.full_name, set())
    ours_fields = {f.name: _field_facts(f) for f in ours.fields}
    theirs_fields = {f.name: _field_facts(f) for f in theirs.fields if f.name not in omitted}
    assert ours_fields == theirs_fields, ours.full_name
    for ours_enum in ours.enum_types:
        theirs_enum = theirs.enum_types_by_name[ours_enum.name]
        assert {v.name: v.number for v in ours_enum.values} == {v.name: v.number for v in theirs_enum.values}
    assert ours.GetOptions().map_entry == theirs.GetOptions().map_entry


def _value(field: descriptor.FieldDescriptor, i: int):
    if field.enum_type is not None:
        values = field.enum_type.values
        return values[min(1 + i, len(values) - 1)].number
    t = field.type
    if t in (field.TYPE_DOUBLE, field.TYPE_FLOAT):
        return 1.5 + i
    if t == field.TYPE_BOOL:
        return True
    if t == field.TYPE_STRING:
        return f"{field.name}-{i}"
    if t == field.TYPE_BYTES:
        return bytes([field.number, i, 0xFF])
    if t in (field.TYPE_INT32, field.TYPE_SINT32, field.TYPE_SFIXED32, field.TYPE_INT64, field.TYPE_SINT64,
             field.TYPE_SFIXED64):
        return -(field.number + i) if i % 2 else field.number + i
    return field.number + i  # unsigned


def populate(message: Message, variant: int = 0, depth: int = 0, only: descriptor.Descriptor | None = None) -> Message:
    """Fill ``message``; with ``only`` (our descriptor), just the fields plantserve declares."""
    names = {f.name for f in (only or message.DESCRIPTOR).fields}
    chosen = {}
    for oneof in message.DESCRIPTOR.oneofs:
        members = [f.name for f in oneof.fields if f.name in names]
        if members and not oneof.name.startswith("_"):
            chosen[oneof.name] = members[variant % len(members)]
    for field in message.DESCRIPTOR.fields:
        oneof = field.containing_oneof
        if field.name not in names or (oneof is not None and chosen.get(oneof.name, field.name) != field.name):
            continue
        if field.message_type is not None and depth >= _MAX_DEPTH:
            continue
        target = getattr(message, field.name)
        sub_only = _sub(only, field)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
            for i in range(2):
                key = _value(key_field, i)
                if value_field.message_type is not None:
                    populate(target[key], variant + i, depth + 1, _sub(sub_only, value_field))
                else:
                    target[key] = _value(value_field, i)
        elif field.is_repeated:
            for i in range(2):
                if field.message_type is not None:
                    populate(target.add(), variant + i, depth + 1, sub_only)
                else:
                    target.append(_value(field, i))
        elif field.message_type is not None:
            populate(target, variant, depth + 1, sub_only)
            target.SetInParent()
        else:
            setattr(message, field.name, _value(field, variant))
    return message


def _sub(only: descriptor.Descriptor | None, field: descriptor.FieldDescriptor) -> descriptor.Descriptor | None:
    if only is None or field.message_type is None:
        return None
    return only.fields_by_name[field.name].message_type


def assert_same_bytes_both_ways(ours_cls: type[Message]) -> None:
    theirs_cls = official_class(ours_cls.DESCRIPTOR.full_name)
    seen: set[str] = set()
    for variant in range(max([2] + [len(o.fields) for o in ours_cls.DESCRIPTOR.oneofs])):
        ours = populate(ours_cls(), variant)
        seen |= {f.name for f, _ in ours.ListFields()}
        ours_bytes = ours.SerializeToString(deterministic=True)
        theirs = theirs_cls.FromString(ours_bytes)
        assert theirs.SerializeToString(deterministic=True) == ours_bytes
        assert text_format.MessageToString(theirs) == text_format.MessageToString(ours)

        theirs = populate(theirs_cls(), variant, only=ours_cls.DESCRIPTOR)
        theirs_bytes = theirs.SerializeToString(deterministic=True)
        back = ours_cls.FromString(theirs_bytes)
        assert back.SerializeToString(deterministic=True) == theirs_bytes
        assert text_format.MessageToString(back) == text_format.MessageToString(theirs)
        assert back == ours
    # Every field was exercised (one oneof member per variant).
    assert seen == {f.name for f in ours_cls.DESCRIPTOR.fields}
