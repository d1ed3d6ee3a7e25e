"""TensorFlow's C API through ctypes: sessions, feeds and fetches of every kind, errors, and living
beside TensorFlow's Python package in one process."""
import subprocess
import sys

import numpy as np
import pytest

from serving.server import tfc
from tests.support import REPO


@pytest.fixture(scope="module")
def strings_model(tmp_path_factory):
    """A TF1 graph: ``s`` (strings) → ``upper`` (strings) and ``length`` (int32); ``h`` (half) → ``h2``."""
    import tensorflow as tf

    tf1 = tf.compat.v1
    path = tmp_path_factory.mktemp("strings") / "1"
    graph = tf.Graph()
    with graph.as_default():
        s = tf1.placeholder(tf.string, name="s")
        tf.strings.upper(s, name="upper")
        tf.strings.length(s, name="length")
        h = tf1.placeholder(tf.float16, name="h")
        tf.multiply(h, tf.constant(2.0, tf.float16), name="h2")
        with tf1.Session(graph=graph) as session:
            builder = tf1.saved_model.Builder(str(path))
            builder.add_meta_graph_and_variables(session, ["serve"])
            builder.save()
    return str(path)


def test_session_config_encodes_the_two_thread_fields():
    assert tfc.session_config() == b""
    assert tfc.session_config(2, 0) == b"\x10\x02"
    assert tfc.session_config(0, -1) == b"\x28" + b"\xff" * 9 + b"\x01"  # int32 -1 as a 10-byte varint


def test_strings_in_and_out(strings_model):
    session, meta = tfc.Session.load(strings_model, ["serve"])
    assert meta  # the MetaGraphDef it loaded
    run = session.runner(["s:0"], ["upper:0", "length:0"])
    words = np.array([b"abc", b"", b"x" * 100], dtype=object).reshape(3, 1)  # short, empty and heap strings
    upper, length = run([words])
    assert upper.tolist() == [[b"ABC"], [b""], [b"X" * 100]] and length.dtype == np.int32
    assert length.ravel().tolist() == [3, 0, 100]
    half = session.runner(["h:0"], ["h2:0"])([np.array([1.5, -2.0], np.float16)])[0]
    assert half.dtype == np.float16 and half.tolist() == [3.0, -4.0]


def test_errors_keep_tensorflows_code_and_words(strings_model):
    session, _ = tfc.Session.load(strings_model, ["serve"])
    with pytest.raises(tfc.TFError) as info:
        session.runner(["nope:0"], ["upper:0"])
    assert info.value.code == 5 and "nope:0" in info.value.message
    with pytest.raises(tfc.TFError) as info:
        session.runner(["s:0"], ["upper:0"])([np.ones(2, np.float32)])
    assert info.value.code == 3 and "Expects arg[0] to be string but float is provided" in info.value.message
    with pytest.raises(tfc.TFError) as info:
        tfc.Session.load(strings_model, ["train"])
    assert info.value.code == 5  # no MetaGraph with that tag


def test_tensorflows_python_package_can_be_imported_afterwards(strings_model):
    """The C library loads privately (RTLD_LOCAL) and the profiler extension under its own name, so a
    later ``import tensorflow`` in the same process works (a global load made it crash)."""
    script = ("import numpy as np\nfrom serving.server import tfc\nfrom serving.server.profiler import "
              "_load_pywrap_profiler\n"
              f"s, _ = tfc.Session.load({strings_model!r}, ['serve'])\n"
              "print(s.runner(['s:0'], ['length:0'])([np.array([b'abcd'], dtype=object)])[0].tolist())\n"
              "_load_pywrap_profiler()\nimport tensorflow as tf\nfrom tensorflow.python.profiler import profiler_v2\n"
              "print('imported', tf.constant(2).numpy())\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[4]\nimported 2" in result.stdout
