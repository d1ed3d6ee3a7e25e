"""The text protos the chart renders for TF Serving parse as the real message types
(MonitoringConfig, BatchingParameters, SSLConfig), with the same parser the local server uses."""
from __future__ import annotations

import subprocess
import sys

from serving.protocol.messages import BatchingParameters, MonitoringConfig, SSLConfig
from serving.protocol.textproto import parse_text
from tests.chart.charts import CHART, one, render_scenario


def test_monitoring_config_parses():
    text = one(render_scenario("01-minimal"), "ConfigMap", "plantserve")["data"]["monitoring.config"]
    msg = parse_text(text, MonitoringConfig)
    assert msg.prometheus_config.enable is True
    assert msg.prometheus_config.path == "/monitoring/prometheus/metrics"


def test_batching_parameters_parse():
    text = one(render_scenario("04-tls"), "ConfigMap", "plantserve")["data"]["batching.config"]
    msg = parse_text(text, BatchingParameters)
    assert msg.max_batch_size.value == 32 and msg.batch_timeout_micros.value == 2000
    assert msg.max_enqueued_batches.value == 4 and msg.num_batch_threads.value == 4
    assert list(msg.allowed_batch_sizes) == [8, 16, 32] and msg.pad_variable_length_inputs is False


def test_ssl_config_parses(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    pem = {"tls.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
           "tls.key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
           "ca.crt": "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"}
    for name, text in pem.items():
        (secret / name).write_text(text)
    out = tmp_path / "ssl.config"
    subprocess.run([sys.executable, str(CHART / "files" / "render-ssl-config.py"), str(secret), str(out),
                    "--client-verify"], check=True, timeout=30)
    msg = parse_text(out.read_text(), SSLConfig)
    assert msg.server_cert == pem["tls.crt"] and msg.server_key == pem["tls.key"]
    assert msg.custom_ca == pem["ca.crt"] and msg.client_verify is True
