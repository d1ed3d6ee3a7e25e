"""Signed models in the demo: a throwaway key in the work dir, every version the demo serves signed
with it, and one version tampered with after signing, which the sidecar must refuse.

- ``DemoKey.ensure(work_dir)``: ``signing/demo-signing-key.pem`` and ``.pub`` (EC P-256), made once and
  reused by later runs; training signs with it (``--signing-key``), the sidecar trusts the public half
  (``--trusted-keys``);
- ``sign_reused``: a version found in the store that this key did not sign (published unsigned, or by an
  earlier demo's key) is signed now, over its files exactly as published, so the sidecar accepts it;
- ``publish_tampered``: a copy of a served version, signed, then one bit of its largest file flipped and
  ``manifest.json`` updated to match, as someone with write access to the bucket could do: only the signature can tell.

Example::

    >>> import tempfile
    >>> from pathlib import Path
    >>> key = DemoKey.ensure(Path(tempfile.mkdtemp()))
    >>> key.private.name, key.public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY")
    ('demo-signing-key.pem', True)
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from serving.signing import SignatureError, SigningConfig, load_signer, load_trust, verify_version
from serving.store import Store
from serving.store.manifest import MANIFEST_NAME, FileEntry
from serving.store.repository import SIGNATURE_NAME, ModelRepository

if TYPE_CHECKING:
    from .traffic import Traffic

__all__ = ["DemoKey", "sign_reused", "publish_tampered", "tamper_step"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DemoKey:
    private: Path
    public: Path

    @classmethod
    def ensure(cls, work_dir: Path) -> "DemoKey":
        """The demo's key pair under ``work_dir/signing``, generated on first use (0600 private key)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        folder = Path(work_dir) / "signing"
        key = cls(folder / "demo-signing-key.pem", folder / "demo-signing-key.pub")
        if key.private.is_file() and key.public.is_file():
            return key
        folder.mkdir(parents=True, exist_ok=True)
        private = ec.generate_private_key(ec.SECP256R1())
        key.private.touch(mode=0o600)
        key.private.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
        key.public.write_bytes(private.public_key().public_bytes(serialization.Encoding.PEM,
                                                                 serialization.PublicFormat.SubjectPublicKeyInfo))
        return key


def sign_reused(store: Store, model: str, version: int, key: DemoKey) -> str | None:
    """Sign ``model/version`` with ``key`` unless it verifies already. Returns why it was signed, or None."""
    repo = ModelRepository(store, model)
    with tempfile.TemporaryDirectory(prefix=f"plantserve-demo-{model}-{version}-") as tmp:
        dest = Path(tmp) / str(version)
        fetched = repo.fetch_exact(version, dest)
        try:
            verify_version(dest, load_trust([key.public]), file_digests=fetched.digests)
            return None
        except SignatureError as exc:
            why = {"unsigned": "it was published unsigned"}.get(exc.reason, f"its signature was refused ({exc.reason})")
        signed = load_signer(SigningConfig(key=key.private)).sign_version(dest, f"{model}/{version}")
    store.write_bytes(f"{model}/{version}/{SIGNATURE_NAME}", signed.bundle)
    return why


def publish_tampered(store: Store, model: str, source: int, key: DemoKey) -> tuple[int, str]:
    """Publish a copy of ``source`` as the next version, signed with ``key``, then change one byte of its
    largest file and rewrite ``manifest.json`` to match. Returns (the new version, the changed file)."""
    repo = ModelRepository(store, model)
    version = repo.reserve_next()
    with tempfile.TemporaryDirectory(prefix=f"plantserve-demo-tampered-{model}-") as tmp:
        staged = Path(tmp) / str(version)
        fetched = repo.fetch_exact(source, staged)
        (staged / SIGNATURE_NAME).unlink(missing_ok=True)
        manifest = dataclasses.replace(fetched.manifest, version=version)
        (staged / MANIFEST_NAME).write_text(manifest.to_json())
        signature = load_signer(SigningConfig(key=key.private)).sign_version(staged, f"{model}/{version}").bundle
        victim = max(manifest.files, key=lambda f: f.size)
        data = bytearray((staged / victim.path).read_bytes())
        data[len(data) // 2] ^= 0x01  # one bit of the graph or of a weight
        (staged / victim.path).write_bytes(bytes(data))
        files = [FileEntry(f.path, f.size, hashlib.sha256(data).hexdigest()) if f is victim else f
                 for f in manifest.files]
        tampered = dataclasses.replace(manifest, files=files)
        (staged / MANIFEST_NAME).write_text(tampered.to_json())
        repo.publish(staged, tampered, signature=signature)
        shutil.rmtree(staged, ignore_errors=True)
    log.info("published %s/%s: signed, then %s changed", model, version, victim.path)
    return version, victim.path


def tamper_step(store: Store, key: DemoKey, status: Callable[[], dict], traffic: Traffic,
                say: Callable[[str], None], timeout_seconds: float) -> int:
    """Publish a tampered fuel version while ``traffic`` flows on label stable; wait for the sidecar to
    refuse it. Returns the number of failed requests meanwhile (the demo's goal: 0)."""
    stable = status()["models"]["fuel"]["stable"]
    say(f"  requests flowing on label stable (v{stable}); the sidecar trusts {key.public}")
    version, changed = publish_tampered(store, "fuel", stable, key)
    say(f"  published fuel version {version}: a copy of v{stable} signed with the demo's key, then one bit of "
        f"{changed} flipped and manifest.json rewritten to match (sizes and sha256 agree: only the signature "
        "can tell)")
    deadline = time.monotonic() + timeout_seconds
    while (mark := status()["models"]["fuel"]["bad"].get(str(version))) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the sidecar did not refuse fuel version {version} within {timeout_seconds:g}s")
        time.sleep(0.1)
    answered = traffic.stats().ok
    while traffic.stats().ok < answered + 20 and time.monotonic() < deadline:  # stable still answers after it
        time.sleep(0.05)
    stats = traffic.stop()
    model = status()["models"]["fuel"]
    say(f"  the sidecar refused version {version} ({mark['reason']}): {mark['detail'][:300]}")
    say(f"  stable is still v{model['stable']}; version {version} was never renamed into place or loaded "
        f"(on disk: {','.join(map(str, model['versions_on_disk']))})")
    say(f"  requests on label stable meanwhile: {stats.ok} answered by {stats.answered_by()}")
    say(f"  failed requests while the tampered version was refused: {stats.failed}"
        + (f" ({stats.failures})" if stats.failed else ""))
    return stats.failed
