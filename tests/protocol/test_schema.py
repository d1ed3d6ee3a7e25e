"""The declaration builder: scalars, nested messages and enums, maps, oneofs, proto3 optional, json
names, cross-file references, and the errors for a bad declaration."""
from __future__ import annotations

import pytest

from serving.protocol.schema import Enum, Message, ProtoFile, SchemaError, build_pool, message_class

BASE = ProtoFile("t/base.proto", "t.base", [
    Enum("Color", {"NONE": 0, "RED": 1}),
    Message("Point", x=(1, "sint64"), y=(2, "double"), color=(3, "t.base.Color")),
])
USER = ProtoFile("t/user.proto", "t.user", [
    Message("Shape", points=(1, "repeated t.base.Point"), names=(2, "map<string, int64>"),
            inner=(3, "t.user.Shape.Inner"), label=(4, "string"), id=(5, "int64"),
            weight=(6, "optional float"), when=(7, "google.protobuf.Int64Value"),
            error=(8, "string", "error"), oneofs={"key": ("label", "id")}),
    Message("Shape.Inner", kind=(1, "t.user.Shape.Kind")),
    Enum("Shape.Kind", {"OPEN": 0, "CLOSED": 2}),
])


@pytest.fixture(scope="module")
def pool():
    return build_pool([BASE, USER])


def test_every_kind_of_field_encodes_by_its_number(pool) -> None:
    Shape = message_class(pool, "t.user.Shape")
    shape = Shape(points=[{"x": -1, "y": 0.5, "color": 1}], names={"a": 3}, inner={"kind": 2}, id=9)
    shape.when.value = 4
    wire = shape.SerializeToString(deterministic=True)
    assert wire == (b"\x0a\x0d\x08\x01\x11\x00\x00\x00\x00\x00\x00\xe0\x3f\x18\x01"  # points (sint64 -1 is 1)
                    b"\x12\x05\x0a\x01a\x10\x03"  # names entry
                    b"\x1a\x02\x08\x02"  # inner.kind
                    b"\x28\x09"  # id
                    b"\x3a\x02\x08\x04")  # when
    assert Shape.FromString(wire) == shape


def test_oneofs_and_proto3_optional_presence(pool) -> None:
    Shape = message_class(pool, "t.user.Shape")
    shape = Shape(label="x")
    shape.id = 3
    assert shape.WhichOneof("key") == "id" and not shape.label
    assert not shape.HasField("weight")
    shape.weight = 0.0
    assert shape.HasField("weight") and shape.SerializeToString() == b"\x28\x03\x35\x00\x00\x00\x00"


def test_descriptor_facts(pool) -> None:
    desc = message_class(pool, "t.user.Shape").DESCRIPTOR
    assert desc.fields_by_name["names"].message_type.GetOptions().map_entry
    assert desc.fields_by_name["error"].json_name == "error"
    assert desc.fields_by_name["points"].json_name == "points"
    assert {d.name for d in desc.file.dependencies} == {"t/base.proto", "google/protobuf/wrappers.proto"}
    assert desc.nested_types_by_name["Inner"].full_name == "t.user.Shape.Inner"


def test_the_pool_is_private(pool) -> None:
    from google.protobuf import descriptor_pool

    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("t.user.Shape")


@pytest.mark.parametrize("files, error", [
    ([ProtoFile("a.proto", "a", [Message("M", x=(1, "a.Missing"))])], "unknown type 'a.Missing'"),
    ([ProtoFile("a.proto", "a", [Message("M"), Message("M")])], "a.M is declared twice"),
    ([ProtoFile("a.proto", "a", [Message("Nope.M")])], "parent Nope is not a message"),
    ([ProtoFile("a.proto", "a", [Message("M", x=(1, "int32"), oneofs={"o": ("x", "y")})])], "without a field"),
])
def test_bad_declarations_say_what_is_wrong(files, error) -> None:
    with pytest.raises(SchemaError, match=error):
        build_pool(files)
