"""A ``dns:///`` target whose name resolves to several pods: PredictClient spreads calls over
all of them (round_robin), where a plain channel sticks to one (pick_first)."""
from __future__ import annotations

import grpc

from serving.client import PredictClient
from serving.protocol import messages
from tests.client.dnsstub import DnsStub
from tests.client.fakes import Behaviour, FakeGrpcServer
from tests.support import free_port

PODS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]


def test_dns_name_with_several_addresses_is_balanced_per_call():
    port = free_port()
    behaviours = [Behaviour() for _ in PODS]
    servers = [FakeGrpcServer(port, b, host=ip) for ip, b in zip(PODS, behaviours)]
    for server in servers:
        server.__enter__()
    try:
        with DnsStub("fuel.plant.test", PODS) as dns:
            target = f"dns://127.0.0.1:{dns.port}/fuel.plant.test:{port}"
            with PredictClient(target, timeout_seconds=10) as client:
                for _ in range(60):
                    client.predict("fuel", {"x": [1.0]})
            ours = [b.calls for b in behaviours]
            with grpc.insecure_channel(target) as channel:  # a plain channel: pick_first
                call = channel.unary_unary("/tensorflow.serving.PredictionService/Predict")
                request = messages.PredictRequest()
                request.model_spec.name = "fuel"
                for _ in range(60):
                    call(request.SerializeToString(), timeout=10)
            plain = [b.calls - o for b, o in zip(behaviours, ours)]
        assert ("fuel.plant.test", 1) in dns.queries
    finally:
        for server in servers:
            server.__exit__(None, None, None)
    # round_robin only picks READY subchannels, so the very first calls may favour one pod.
    assert sum(ours) == 60 and min(ours) >= 15, ours
    assert sorted(plain) == [0, 0, 60]
