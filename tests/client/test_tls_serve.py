"""TLS and mTLS between PredictClient and a real ``plantserve serve --ssl_config_file``,
with a CA generated in the test. The SSLConfig carries the PEM contents inline, as on TF Serving."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from serving.client import PredictClient, Unavailable
from tests.tls import make_tls
from tests.client.servers import start_serve

ROW = {n: [1.0] for n in ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin")}


def _ssl_config(path: Path, tls, client_verify: bool) -> Path:
    fields = {"server_key": tls.server.key.decode(), "server_cert": tls.server.cert.decode()}
    if client_verify:
        fields["custom_ca"] = tls.ca.cert.decode()
    lines = [f"{k}: {json.dumps(v)}" for k, v in fields.items()]  # JSON string escapes are valid text-proto escapes
    lines.append(f"client_verify: {'true' if client_verify else 'false'}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("mutual", [False, True], ids=["tls", "mtls"])
def test_tls_against_plantserve_serve(model_store: Path, tmp_path: Path, mutual: bool):
    tls = make_tls(tmp_path)
    config = _ssl_config(tmp_path / "ssl.config", tls, client_verify=mutual)
    with start_serve(tmp_path, model_store, ("fuel",), extra=[f"--ssl_config_file={config}"]) as served:
        target = f"localhost:{served.grpc_port}"
        creds = {"client_cert": tls.client_cert_path, "client_key": tls.client_key_path} if mutual else {}
        with PredictClient(target, ca_cert=tls.ca_path, **creds) as client:
            assert client.predict("fuel", ROW, timeout=30)["mpg"].shape == (1,)
        with PredictClient(target, retry_attempts=1) as plaintext, pytest.raises(Unavailable):
            plaintext.predict("fuel", ROW, timeout=5)
        if mutual:
            with PredictClient(target, ca_cert=tls.ca_path, retry_attempts=1) as anonymous:
                with pytest.raises(Unavailable):
                    anonymous.predict("fuel", ROW, timeout=5)
