"""TFRecord files read as TensorFlow's ``io::RecordReader`` reads them, without TensorFlow.

A record is its length (uint64, little-endian), the masked CRC-32C of those 8 bytes, the data, and the
masked CRC-32C of the data. The end of the file, or a header cut short, ends the iteration (as in
TensorFlow); a record cut short or a checksum that does not match raises :class:`RecordError` with
TensorFlow's code and words (DATA_LOSS ``truncated record at N...`` / ``corrupted record at N``).

>>> import io
>>> list(read_records(io.BytesIO(encode_record(b"abc") + encode_record(b""))))
[b'abc', b'']
"""
from __future__ import annotations

import struct
from typing import BinaryIO, Iterator

import google_crc32c

__all__ = ["RecordError", "read_records", "encode_record", "masked_crc"]

_DATA_LOSS = 15
_MASK_DELTA = 0xA282EAD8


class RecordError(Exception):
    """A TFRecord file that is not one: ``code`` is TensorFlow's canonical code (DATA_LOSS)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = self.error_code = code
        self.message = message


def masked_crc(data: bytes) -> int:
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def encode_record(data: bytes) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc(header)) + data + struct.pack("<I", masked_crc(data))


def _corrupted(offset: int) -> RecordError:
    hint = " (Is this even a TFRecord file?)" if offset == 0 else ""
    return RecordError(_DATA_LOSS, f"corrupted record at {offset}{hint}")


def _truncated(record_start: int) -> RecordError:
    return RecordError(_DATA_LOSS, f"truncated record at {record_start}' failed with Read less bytes than requested")


def read_records(stream: BinaryIO, max_record_bytes: int = 1 << 31) -> Iterator[bytes]:
    """Every record's data, in order. A length above ``max_record_bytes`` (default 2 GiB) is DATA_LOSS."""
    offset = 0
    while True:
        head = stream.read(12)
        if len(head) < 12:
            return
        if masked_crc(head[:8]) != struct.unpack("<I", head[8:])[0]:
            raise _corrupted(offset)
        (length,) = struct.unpack("<Q", head[:8])
        if length > max_record_bytes:
            raise RecordError(_DATA_LOSS, f"record size too large at {offset}")
        body = stream.read(length + 4)
        if len(body) < length + 4:
            raise _truncated(offset)
        if masked_crc(body[:length]) != struct.unpack("<I", body[length:])[0]:
            raise _corrupted(offset + 12)
        yield body[:length]
        offset += 12 + length + 4
