"""Protobuf messages declared by their facts (full names, field names, numbers, types) and built
in a private ``DescriptorPool``: no protoc, no generated code, no ``.proto`` files.

A field is ``name=(number, "type")``, or ``name=(number, "type", "jsonName")`` when the .proto
sets a ``json_name`` of its own. The type is a scalar (``"int64"``, ``"bytes"``...), the full
name of a message or enum declared anywhere in the same build (``"tensorflow.TensorProto"``), or
a message of protobuf's own well-known types (``"google.protobuf.Any"``), prefixed with
``repeated`` or ``optional`` (proto3 explicit presence), or ``"map<key, value>"``. Names with a
dot inside a file's package (``"TensorShapeProto.Dim"``) are nested in their parent.

The pool is private, so these classes never clash with TensorFlow's generated ones when both are
imported in one process (the byte-compatibility tests do exactly that).

>>> pool = build_pool([ProtoFile("demo.proto", "demo", [
...     Message("Point", x=(1, "int64"), tags=(2, "repeated string"), kind=(3, "demo.Kind")),
...     Enum("Kind", {"PLAIN": 0, "FANCY": 1})])])
>>> Point = message_class(pool, "demo.Point")
>>> Point(x=1, tags=["a"], kind=1).SerializeToString()
b'\\x08\\x01\\x12\\x01a\\x18\\x01'
"""
from __future__ import annotations

import dataclasses
import re
from typing import Iterable, Mapping

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory, wrappers_pb2
from google.protobuf.message import Message as ProtoMessage

__all__ = ["Message", "Enum", "ProtoFile", "build_pool", "message_class", "SchemaError"]

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS: dict[str, int] = {
    "double": _F.TYPE_DOUBLE, "float": _F.TYPE_FLOAT, "int64": _F.TYPE_INT64, "uint64": _F.TYPE_UINT64,
    "int32": _F.TYPE_INT32, "fixed64": _F.TYPE_FIXED64, "fixed32": _F.TYPE_FIXED32, "bool": _F.TYPE_BOOL,
    "string": _F.TYPE_STRING, "bytes": _F.TYPE_BYTES, "uint32": _F.TYPE_UINT32, "sfixed32": _F.TYPE_SFIXED32,
    "sfixed64": _F.TYPE_SFIXED64, "sint32": _F.TYPE_SINT32, "sint64": _F.TYPE_SINT64,
}
_MAP = re.compile(r"map<\s*(\w+)\s*,\s*([\w.]+)\s*>")
#: protobuf's own files whose messages the declarations may use.
_WELL_KNOWN = (any_pb2, wrappers_pb2)


class SchemaError(ValueError):
    """A declaration that cannot be built (unknown type, duplicate name)."""


@dataclasses.dataclass(frozen=True)
class Message:
    """``Message("ModelSpec", name=(1, "string"), ..., oneofs={"version_choice": ("version", ...)})``."""

    name: str
    fields: dict[str, tuple[int, str] | tuple[int, str, str]]
    oneofs: Mapping[str, tuple[str, ...]]

    def __init__(self, name: str, /, *, oneofs: Mapping[str, tuple[str, ...]] | None = None,
                 **fields: tuple[int, str] | tuple[int, str, str]) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "fields", dict(fields))
        object.__setattr__(self, "oneofs", dict(oneofs or {}))


@dataclasses.dataclass(frozen=True)
class Enum:
    name: str
    values: Mapping[str, int]


@dataclasses.dataclass(frozen=True)
class ProtoFile:
    """One package's declarations; ``name`` is the file name registered in the pool."""

    name: str
    package: str
    declarations: list[Message | Enum]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class _Builder:
    def __init__(self, files: list[ProtoFile]) -> None:
        self.files = files
        #: full name -> (file name, is enum) for every declared or well-known type
        self.types: dict[str, tuple[str, bool]] = {}
        for module in _WELL_KNOWN:
            for name in module.DESCRIPTOR.message_types_by_name:
                self.types[f"google.protobuf.{name}"] = (module.DESCRIPTOR.name, False)
        for f in files:
            for decl in f.declarations:
                full = f"{f.package}.{decl.name}"
                if full in self.types:
                    raise SchemaError(f"{full} is declared twice")
                self.types[full] = (f.name, isinstance(decl, Enum))

    def _field(self, owner: descriptor_pb2.DescriptorProto, owner_full: str, name: str, number: int, spec: str,
               deps: set[str], file_name: str) -> _F:
        field = _F(name=name, number=number, json_name=_camel(name), label=_F.LABEL_OPTIONAL)
        words = spec.split(None, 1)
        if words[0] in ("repeated", "optional"):
            if words[0] == "repeated":
                field.label = _F.LABEL_REPEATED
            else:
                field.proto3_optional = True
            spec = words[1]
        mapping = _MAP.fullmatch(spec)
        if mapping:
            entry = owner.nested_type.add(name=_camel(name)[:1].upper() + _camel(name)[1:] + "Entry")
            entry.options.map_entry = True
            entry_full = f"{owner_full}.{entry.name}"
            entry.field.extend([self._field(entry, entry_full, "key", 1, mapping.group(1), deps, file_name),
                                self._field(entry, entry_full, "value", 2, mapping.group(2), deps, file_name)])
            field.label, field.type, field.type_name = _F.LABEL_REPEATED, _F.TYPE_MESSAGE, f".{entry_full}"
        elif spec in _SCALARS:
            field.type = _SCALARS[spec]
        elif spec in self.types:
            declared_in, is_enum = self.types[spec]
            field.type = _F.TYPE_ENUM if is_enum else _F.TYPE_MESSAGE
            field.type_name = f".{spec}"
            if declared_in != file_name:
                deps.add(declared_in)
        else:
            raise SchemaError(f"{owner_full}.{name}: unknown type {spec!r}")
        return field

    def file(self, f: ProtoFile) -> descriptor_pb2.FileDescriptorProto:
        fd = descriptor_pb2.FileDescriptorProto(name=f.name, package=f.package, syntax="proto3")
        scopes: dict[str, descriptor_pb2.DescriptorProto] = {}
        deps: set[str] = set()
        # Parents before the messages nested in them.
        for decl in sorted(f.declarations, key=lambda d: d.name.count(".")):
            parent_name, _, short = decl.name.rpartition(".")
            if parent_name and parent_name not in scopes:
                raise SchemaError(f"{f.package}.{decl.name}: parent {parent_name} is not a message declared here")
            parent = scopes.get(parent_name)
            if isinstance(decl, Enum):
                enum = (parent.enum_type if parent is not None else fd.enum_type).add(name=short)
                for key, value in decl.values.items():
                    enum.value.add(name=key, number=value)
                continue
            msg = (parent.nested_type if parent is not None else fd.message_type).add(name=short)
            scopes[decl.name] = msg
        for decl in f.declarations:
            if isinstance(decl, Message):
                self._fields(f, decl, scopes[decl.name], deps)
        fd.dependency.extend(sorted(deps))
        return fd

    def _fields(self, f: ProtoFile, decl: Message, msg: descriptor_pb2.DescriptorProto, deps: set[str]) -> None:
        full = f"{f.package}.{decl.name}"
        oneof_of = {member: oneof for oneof, members in decl.oneofs.items() for member in members}
        for oneof in decl.oneofs:
            msg.oneof_decl.add(name=oneof)
        indexes = {oneof: i for i, oneof in enumerate(decl.oneofs)}
        optional: list[str] = []
        for name, (number, spec, *json_name) in decl.fields.items():
            field = self._field(msg, full, name, number, spec, deps, f.name)
            if json_name:
                field.json_name = json_name[0]
            if name in oneof_of:
                field.oneof_index = indexes[oneof_of.pop(name)]
            elif field.proto3_optional:
                # proto3 ``optional``: a synthetic oneof of its own, declared after the real ones.
                field.oneof_index = len(decl.oneofs) + len(optional)
                optional.append(name)
            msg.field.append(field)
        if oneof_of:
            raise SchemaError(f"{full}: oneof members without a field: {sorted(oneof_of)}")
        for name in optional:
            msg.oneof_decl.add(name=f"_{name}")


def build_pool(files: Iterable[ProtoFile]) -> descriptor_pool.DescriptorPool:
    """A new private pool holding protobuf's well-known types and ``files`` (in dependency order)."""
    files = list(files)
    builder = _Builder(files)
    pool = descriptor_pool.DescriptorPool()
    for module in _WELL_KNOWN:
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        pool.Add(proto)
    for f in files:
        pool.Add(builder.file(f))
    return pool


def message_class(pool: descriptor_pool.DescriptorPool, full_name: str) -> type[ProtoMessage]:
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))
