"""``plantserve verify MODEL VERSION --store URI --trusted-keys PEM``: check a published version from a laptop.

Downloads the version to a temporary directory exactly as published (its files, each checked
against ``manifest.json`` as it lands, the manifest's own bytes and ``model.sig``), verifies the
signature offline against the trust anchors, and prints who signed it and what::

    plantserve verify fuel 3 --store s3://models --trusted-keys keys/line-3.pub
    plantserve verify fuel 3 --store /mnt/usb/store --trusted-ca plant-ca.pem --trusted-identity trainer@plant.example

Exit codes: 0 the signature holds; 1 verification failed (the reason is printed: unsigned,
tampered, unknown_key, bad_signature, expired_certificate, ...); 2 bad input (flags, trust
files, store, a version that is not published).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TextIO

from serving import settings as spec
from serving.settings import SettingsError, setting

from .flags import TrustSettings, add_trust_arguments, trust_settings

__all__ = ["VerifySettings", "add_arguments", "run"]


@dataclasses.dataclass(frozen=True)
class VerifySettings:
    """Where the version is and how to show it; the trust anchors are :class:`TrustSettings`."""

    model: str  # the positional arguments
    version: int
    store: str = setting(help="DIR, file://DIR, s3://BUCKET/PREFIX or gs://BUCKET/PREFIX", required=True)
    s3_endpoint_url: str | None = setting(help="S3-compatible endpoint, e.g. MinIO (or AWS_ENDPOINT_URL)")
    json: bool = setting(False, env="", help="print the result as JSON")
    quiet: bool = setting(False, env="", help="no download progress")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model name, e.g. fuel")
    parser.add_argument("version", type=int, help="the published version to check")
    spec.add_arguments(parser, VerifySettings)
    add_trust_arguments(parser)


class _Progress:
    """Download progress on stderr in 25% steps (files arrive in parallel)."""

    def __init__(self, total: int, out: TextIO) -> None:
        self.total, self.done, self.mark, self.out = max(total, 1), 0, 25, out
        self.lock = threading.Lock()

    def __call__(self, nbytes: int) -> None:
        with self.lock:
            self.done += nbytes
            while self.done * 100 // self.total >= self.mark and self.mark <= 100:
                print(f"  downloaded {self.done / 1e6:.1f} / {self.total / 1e6:.1f} MB ({self.mark}%)",
                      file=self.out, flush=True)
                self.mark += 25


def _print_result(model: str, version: int, uri: str, info, fetched, sizes: dict[str, int]) -> None:
    print(f"{model} version {version} in {uri}: signature OK (verified offline)")
    if info.method == "certificate":
        print(f"signed by   certificate {info.subject}")
        print(f"            issuer {info.issuer}")
        print(f"            valid {info.not_before:%Y-%m-%d %H:%M} to {info.not_after:%Y-%m-%d %H:%M} UTC")
        print(f"            identities {', '.join(info.identities) or '-'}; key sha256:{info.key_fingerprint}")
    else:
        print(f"signed by   key sha256:{info.key_fingerprint}")
        print(f"            (trusted key {info.trusted_key})")
    print(f"statement   {info.statement_name}, root digest sha256:{info.root_digest}")
    total = sum(sizes.get(p, 0) for p in info.files)
    print(f"files       {len(info.files)} files, {total / 1e6:.1f} MB, each matching its signed sha256:")
    for path, digest in sorted(info.files.items()):
        print(f"  {digest}  {sizes.get(path, 0):>12}  {path}")
    if fetched.unlisted:
        print(f"note        objects under {model}/{version}/ that its manifest does not list (never downloaded "
              f"by a sidecar): {', '.join(fetched.unlisted)}")


def _verify(args: VerifySettings, trust, out: TextIO) -> int:
    from serving.store import S3Options, open_store
    from serving.store.repository import ModelRepository

    from .verify import verify_version

    repo = ModelRepository(open_store(args.store, S3Options(endpoint_url=args.s3_endpoint_url)), args.model)
    manifest = repo.manifest(args.version)
    started = time.monotonic()
    if not args.quiet:
        print(f"downloading {args.model} version {args.version}: {len(manifest.files)} files, "
              f"{manifest.total_bytes / 1e6:.1f} MB", file=out, flush=True)
    with tempfile.TemporaryDirectory(prefix=f"plantserve-verify-{args.model}-{args.version}-") as tmp:
        dest = Path(tmp) / str(args.version)
        fetched = repo.fetch_exact(args.version, dest, None if args.quiet else _Progress(manifest.total_bytes, out))
        downloaded = time.monotonic()
        info = verify_version(dest, trust, file_digests=fetched.digests)
        sizes = {p.relative_to(dest).as_posix(): p.stat().st_size for p in dest.rglob("*") if p.is_file()}
    if not args.quiet:
        print(f"downloaded in {downloaded - started:.1f} s, verified in {time.monotonic() - downloaded:.2f} s",
              file=out, flush=True)
    if args.json:
        print(json.dumps({"model": args.model, "version": args.version, "store": repo.store.uri, "ok": True,
                          "signer": info.to_dict(), "unlisted": fetched.unlisted}, indent=2, sort_keys=True))
    else:
        _print_result(args.model, args.version, repo.store.uri, info, fetched, sizes)
    return 0


def run(parsed: argparse.Namespace) -> int:
    from serving.store import StoreError, StoreIntegrityError, StoreNotFoundError
    from serving.store.manifest import ManifestError

    from .errors import SignatureError, TrustConfigError

    what = f"{parsed.model} version {parsed.version}"
    try:
        args = spec.build(VerifySettings, parsed, model=parsed.model, version=parsed.version)
        anchors: TrustSettings = trust_settings(parsed)
    except SettingsError as exc:
        print(f"plantserve verify: error: {exc}", file=sys.stderr)
        return 2
    try:
        trust = anchors.load()
        if not trust.configured:
            raise TrustConfigError("give --trusted-keys and/or --trusted-ca: there is nothing to verify against")
        return _verify(args, trust, sys.stderr)
    except SignatureError as exc:
        _refused(args, what, exc.reason, str(exc))
        return 1
    except StoreIntegrityError as exc:  # a file differs from manifest.json, which the signature covers
        _refused(args, what, "tampered", str(exc))
        return 1
    except StoreNotFoundError as exc:
        print(f"plantserve verify: error: {what} is not published in {args.store}: {exc}", file=sys.stderr)
        return 2
    except (TrustConfigError, ManifestError, StoreError, ValueError) as exc:
        print(f"plantserve verify: error: {exc}", file=sys.stderr)
        return 2


def _refused(args: VerifySettings, what: str, reason: str, message: str) -> None:
    if args.json:
        print(json.dumps({"model": args.model, "version": args.version, "ok": False, "reason": reason,
                          "message": message}, indent=2, sort_keys=True))
    print(f"plantserve verify: {what} REFUSED ({reason}): {message}", file=sys.stderr)
