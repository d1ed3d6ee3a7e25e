"""Channel options and the service config: round robin, UNAVAILABLE-only retries, sizes."""
from __future__ import annotations

import json

from serving.client import ClientSettings
from serving.client.channel import channel_options, service_config


def test_service_config_round_robin_and_retry_only_unavailable():
    cfg = json.loads(service_config(ClientSettings(target="dns:///svc:8500", retry_attempts=4)))
    assert cfg["loadBalancingConfig"] == [{"round_robin": {}}]
    policy = cfg["methodConfig"][0]["retryPolicy"]
    assert policy["retryableStatusCodes"] == ["UNAVAILABLE"] and policy["maxAttempts"] == 4
    services = {n["service"] for n in cfg["methodConfig"][0]["name"]}
    assert services == {"tensorflow.serving.PredictionService", "tensorflow.serving.ModelService"}


def test_single_attempt_has_no_retry_policy():
    cfg = json.loads(service_config(ClientSettings(target="h:1", retry_attempts=1)))
    assert "retryPolicy" not in cfg["methodConfig"][0]


def test_options_cover_sizes_keepalive_and_retry_buffer():
    opts = dict(channel_options(ClientSettings(target="h:1", max_message_bytes=32 << 20, keepalive_seconds=20)))
    assert opts["grpc.max_receive_message_length"] == opts["grpc.max_send_message_length"] == 32 << 20
    assert opts["grpc.per_rpc_retry_buffer_size"] == 32 << 20
    assert opts["grpc.keepalive_time_ms"] == 20000 and opts["grpc.enable_retries"] == 1
    assert opts["grpc.service_config_disable_resolution"] == 1
