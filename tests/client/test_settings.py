"""ClientSettings validation and model addressing."""
from __future__ import annotations

import pytest

from serving.client import ClientSettings, ModelRef


def test_default_label_applies_only_without_explicit_choice():
    s = ClientSettings(target="h:1")
    assert s.model_ref("fuel") == ModelRef("fuel", None, "stable", "serving_default")
    assert s.model_ref("fuel", version=2) == ModelRef("fuel", 2, None, "serving_default")
    assert s.model_ref("fuel", label="canary", signature="regress").label == "canary"
    assert ClientSettings(target="h:1", default_label=None).model_ref("fuel").label is None


def test_version_and_label_together_are_refused():
    with pytest.raises(ValueError, match="not both"):
        ModelRef("fuel", version=1, label="stable")


@pytest.mark.parametrize("kw,key", [({"timeout_seconds": 0}, "timeout_seconds"),
                                    ({"retry_attempts": 6}, "retry_attempts"),
                                    ({"client_cert": "c.pem"}, "client_cert/client_key"),
                                    ({"load_balancing": "random"}, "load_balancing")])
def test_invalid_values_name_the_key(kw, key):
    with pytest.raises(ValueError, match=key):
        ClientSettings(target="h:1", **kw)


def test_tls_is_implied_by_a_ca():
    from pathlib import Path
    assert ClientSettings(target="h:1", ca_cert=Path("ca.pem")).uses_tls
    assert not ClientSettings(target="h:1").uses_tls
