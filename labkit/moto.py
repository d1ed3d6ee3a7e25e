"""moto's standalone S3 server over HTTP on a free loopback port: the same protocol MinIO and AWS speak.

    >>> # server = start_moto(Path("/tmp/x")); server.make_bucket("models"); server.proc.stop()
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from labkit.procs import Proc, free_port, port_open, wait_until

__all__ = ["S3Server", "S3_ENV", "start_moto"]

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclasses.dataclass
class S3Server:
    endpoint: str
    port: int
    proc: Proc
    env: dict[str, str]

    def make_bucket(self, name: str) -> str:
        import boto3

        boto3.client("s3", endpoint_url=self.endpoint, **_creds()).create_bucket(Bucket=name)
        return f"s3://{name}"


def _creds() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def start_moto(tmp: Path, port: int | None = None) -> S3Server:
    port = port or free_port()
    proc = Proc([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], tmp / f"moto-{port}.log")
    wait_until(lambda: port_open(port) or (not proc.alive() and (_ for _ in ()).throw(
        RuntimeError(proc.output()))), timeout=60, what="moto S3 server")
    endpoint = f"http://127.0.0.1:{port}"
    return S3Server(endpoint, port, proc, {**S3_ENV, "AWS_ENDPOINT_URL": endpoint})
