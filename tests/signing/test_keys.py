"""serving.signing.keys: what loads, what is refused, and the fingerprints people compare."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from serving.signing.errors import SigningConfigError, TrustConfigError
from serving.signing.keys import (
    key_fingerprint,
    key_hint,
    load_certificates,
    load_private_key,
    load_public_keys,
    read_password,
)
from tests.tls import write_key_pair


def test_fingerprint_is_openssl_der_sha256_and_hint_is_model_signing_key_id(tmp_path: Path) -> None:
    _, pub = write_key_pair(tmp_path, "k")
    key = serialization.load_pem_public_key(pub.read_bytes())
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(pub), "-outform", "DER"], capture_output=True,
                         check=True).stdout
    assert key_fingerprint(key) == hashlib.sha256(der).hexdigest()
    assert key_hint(key) == hashlib.sha256(pub.read_bytes()).hexdigest()


def test_encrypted_key_needs_its_password_file(tmp_path: Path) -> None:
    key, _ = write_key_pair(tmp_path, "k", password=b"s3cret")
    (tmp_path / "pw").write_text("s3cret\n")  # a Secret file with a trailing newline
    assert isinstance(load_private_key(key, read_password(tmp_path / "pw")), ec.EllipticCurvePrivateKey)
    with pytest.raises(SigningConfigError, match="--signing-key-password-file"):
        load_private_key(key)
    with pytest.raises(SigningConfigError, match="password is wrong"):
        load_private_key(key, b"nope")
    plain, _ = write_key_pair(tmp_path, "plain")
    with pytest.raises(SigningConfigError, match="drop --signing-key-password-file"):
        load_private_key(plain, b"s3cret")
    with pytest.raises(SigningConfigError, match="cannot read --signing-key-password-file"):
        read_password(tmp_path / "missing")


def test_only_ec_keys_on_the_model_signing_curves(tmp_path: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "rsa.pem").write_bytes(rsa_key.private_bytes(serialization.Encoding.PEM,
                                                             serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))
    with pytest.raises(SigningConfigError, match="P-256, P-384 or P-521"):
        load_private_key(tmp_path / "rsa.pem")
    _, k1_pub = write_key_pair(tmp_path, "k1", curve=ec.SECP256K1())
    with pytest.raises(TrustConfigError, match="secp256k1"):
        load_public_keys([k1_pub])
    p384, _ = write_key_pair(tmp_path, "p384", curve=ec.SECP384R1())
    assert load_private_key(p384).curve.name == "secp384r1"
    with pytest.raises(SigningConfigError, match="cannot read the signing key"):
        load_private_key(tmp_path / "absent.pem")


def test_public_keys_from_files_and_a_mounted_configmap_dir(tmp_path: Path) -> None:
    keys_dir = tmp_path / "trusted"
    data = keys_dir / "..2026_01_01_00_00_00.000"  # how a ConfigMap volume looks: hidden data dir + symlinks
    data.mkdir(parents=True)
    for name in ("line-3.pub", "line-4.pub"):
        write_key_pair(data, name.removesuffix(".pub"))
        (keys_dir / name).symlink_to(data / name)
    (keys_dir / "..data").symlink_to(data.name)
    _, extra = write_key_pair(tmp_path, "extra")
    loaded = load_public_keys([keys_dir, extra])
    assert [p.name for p, _ in loaded] == ["line-3.pub", "line-4.pub", "extra.pub"]
    (keys_dir / "README").write_text("not a key")
    with pytest.raises(TrustConfigError, match="README is not a PEM public key"):
        load_public_keys([keys_dir])
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrustConfigError, match="holds no key files"):
        load_public_keys([tmp_path / "empty"])


def test_certificates_bundle(tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("junk")
    with pytest.raises(TrustConfigError, match="holds no PEM certificate"):
        load_certificates(tmp_path / "junk.pem", "the trusted CA bundle", TrustConfigError)
    with pytest.raises(TrustConfigError, match="cannot read the trusted CA bundle"):
        load_certificates(tmp_path / "absent.pem", "the trusted CA bundle", TrustConfigError)
