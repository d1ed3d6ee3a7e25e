"""TFRecord reading without TensorFlow, checked against TensorFlow's own reader on the same bytes."""
import io

import pytest

from serving.server.tfrecord import RecordError, encode_record, read_records

GOOD = encode_record(b"hello") + encode_record(b"world!")
SECOND = len(encode_record(b"hello"))


def _tensorflow(path) -> tuple:
    import tensorflow as tf

    try:
        return "ok", list(tf.compat.v1.io.tf_record_iterator(str(path)))
    except tf.errors.OpError as exc:
        return exc.error_code, exc.message


def _ours(data: bytes) -> tuple:
    try:
        return "ok", list(read_records(io.BytesIO(data)))
    except RecordError as exc:
        return exc.code, exc.message


@pytest.mark.parametrize("data", [
    GOOD, b"", GOOD[:5], GOOD[:15], GOOD[:SECOND - 2], GOOD[:SECOND + 5], GOOD[:13] + b"X" + GOOD[14:],
    GOOD[:SECOND + 9] + b"X" + GOOD[SECOND + 10:], b"\x0c\x00\x00\x00\x00\x00\x00\x00this is not a TFRecord file",
], ids=["good", "empty", "short-head", "short-data", "short-crc", "short-second-head", "bad-data-crc",
        "bad-second-head-crc", "not-tfrecord"])
def test_same_records_and_errors_as_tensorflow(tmp_path, data):
    path = tmp_path / "records"
    path.write_bytes(data)
    assert _ours(data) == _tensorflow(path)


def test_tensorflow_reads_what_we_write(tmp_path):
    path = tmp_path / "records"
    path.write_bytes(encode_record(b"") + encode_record(b"x" * 70000))
    assert _tensorflow(path) == ("ok", [b"", b"x" * 70000])
