"""Render TF Serving's SSLConfig text proto (PEM contents inline) from a kubernetes.io/tls Secret.

Usage: render-ssl-config.py SECRET_DIR OUT_FILE [--client-verify]
SECRET_DIR holds tls.crt and tls.key (and ca.crt for --client-verify).
"""
import json
import os
import sys
from pathlib import Path


def main(argv):
    secret, out = Path(argv[1]), Path(argv[2])
    client_verify = "--client-verify" in argv[3:]
    lines = [
        "server_key: " + json.dumps((secret / "tls.key").read_text()),
        "server_cert: " + json.dumps((secret / "tls.crt").read_text()),
    ]
    if client_verify:
        lines.append("custom_ca: " + json.dumps((secret / "ca.crt").read_text()))
        lines.append("client_verify: true")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.chmod(tmp, 0o400)
    tmp.rename(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
