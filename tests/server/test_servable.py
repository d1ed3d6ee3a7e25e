import os
import shutil

import numpy as np
import pytest

from serving.server.servable import load_servable
from serving.server.status import Code, ServingError
from tests.server.tinymodels import fuel_expected


def test_signatures_and_fast_call(tiny_store):
    s = load_servable("fuel", 1, str(tiny_store / "fuel" / "1"), ("serve",))
    assert s.backend == "eager" and {"serving_default", "regress"} <= set(s.signatures)
    sig = s.signature("serving_default")
    assert sig.input_names == tuple(sorted(sig.input_names)) and sig.output_names == ("mpg",)
    rows = np.arange(14, dtype=np.float32).reshape(2, 7)
    by_name = dict(zip(("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin"),
                       rows.T))
    out = sig.call([by_name[n] for n in sig.input_names])
    np.testing.assert_allclose(out[0], fuel_expected(rows, 20.0), rtol=1e-5)


def test_input_checks(tiny_store):
    sig = load_servable("fuel", 1, str(tiny_store / "fuel" / "1"), ("serve",)).signature("serving_default")
    with pytest.raises(ServingError, match=r"Expects arg\[0\] to be float but int32 is provided"):
        sig.check_input(0, np.ones(1, np.int32))
    with pytest.raises(ServingError, match="is not compatible with the signature shape"):
        sig.check_input(0, np.ones((1, 2), np.float32))


def test_missing_variables_index_loads_then_fails_at_inference(tiny_store, tmp_path):
    path = tmp_path / "1"
    shutil.copytree(tiny_store / "fuel" / "1", path)
    os.remove(path / "variables" / "variables.index")
    s = load_servable("fuel", 1, str(path), ("serve",))
    assert s.backend == "session"
    with pytest.raises(Exception) as info:
        s.signature("serving_default").call([np.ones(1, np.float32)] * 7)
    assert getattr(info.value, "error_code", None) == Code.FAILED_PRECONDITION


def test_load_errors_have_codes(tmp_path):
    (tmp_path / "1").mkdir()
    with pytest.raises(ServingError) as info:
        load_servable("fuel", 1, str(tmp_path / "1"), ("serve",))
    assert info.value.code == Code.NOT_FOUND
