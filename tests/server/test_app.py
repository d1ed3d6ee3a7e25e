"""The ``plantserve serve`` process: flags, exit codes, start-up order and SIGTERM."""
import ipaddress
import signal

from tests.server.tinymodels import write_bad_warmup
from tests.support import port_open, run_cli, wait_until


def test_unknown_flag_prints_usage_and_keeps_serving_then_sigterm_exits_0(serve_proc, tiny_store):
    server = serve_proc("--model_name=fuel", f"--model_base_path={tiny_store / 'fuel'}", "--no_such_flag=1")
    assert server.proc.alive()
    assert "unknown argument: --no_such_flag=1" in server.proc.output()
    assert port_open(server.grpc_port)
    assert server.proc.stop(signal.SIGTERM) == 0


def test_bad_flag_value_exits_255():
    result = run_cli("serve", "--port=eighty", timeout=120)
    assert result.returncode == 255
    assert "Couldn't interpret value eighty for flag port." in result.stderr


def test_batching_file_without_enable_batching_fails_to_start(tmp_path, tiny_store):
    (tmp_path / "b.conf").write_text("max_batch_size { value: 8 }")
    result = run_cli("serve", "--port=1", "--model_name=fuel", f"--model_base_path={tiny_store / 'fuel'}",
                     f"--batching_parameters_file={tmp_path / 'b.conf'}", timeout=120)
    assert result.returncode == 255
    assert "Failed to start server. Error: INVALID_ARGUMENT: server_options.batching_parameters_file is set" \
        in result.stdout


def test_first_load_failure_exits_255_after_retries(tmp_path, tiny_store_copy):
    write_bad_warmup(tiny_store_copy / "fuel" / "1")
    result = run_cli("serve", "--port=1", "--model_name=fuel", f"--model_base_path={tiny_store_copy / 'fuel'}",
                     "--max_num_load_retries=1", "--load_retry_interval_micros=1000", timeout=120)
    assert result.returncode == 255
    assert "Failed to start server. Error: UNKNOWN: 1 model(s) did not become available" in result.stdout
    assert "TFRecord" in result.stdout


def test_missing_base_path_keeps_ports_closed(serve_proc, tmp_path):
    server = serve_proc("--model_name=fuel", f"--model_base_path={tmp_path / 'nothing'}", wait=False)
    wait_until(lambda: "Could not find base path" in server.proc.output(), timeout=120, what="poll error")
    assert server.proc.alive() and not port_open(server.grpc_port) and not port_open(server.rest_port)
    assert server.proc.stop(signal.SIGTERM) == 0


def _listening_addresses(port: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Local addresses of sockets listening on ``port``, from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in list(f)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                    continue
                raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, len(address), 8))
                ip = ipaddress.ip_address(raw)
                found.add(getattr(ip, "ipv4_mapped", None) or ip)
    return found


def test_servers_started_by_tests_bind_loopback_only(serve_proc, tiny_store):
    server = serve_proc("--model_name=fuel", f"--model_base_path={tiny_store / 'fuel'}")
    for port in (server.grpc_port, server.rest_port):
        addresses = _listening_addresses(port)
        assert addresses and all(a.is_loopback for a in addresses), addresses  # nothing on 0.0.0.0 or ::
    assert server.proc.stop(signal.SIGTERM) == 0
