"""The S3-compatible store (AWS S3, MinIO, Google Cloud Storage, anything that speaks the S3 HTTP protocol).

TF Serving lost ``s3://`` in 2.7 (tensorflow/serving#1963); this backend is how plantserve
reaches S3 instead. Credentials and region come from the standard AWS chain (env vars,
``~/.aws``, IRSA web identity); the endpoint from ``endpoint_url`` or ``AWS_ENDPOINT_URL``.
boto3 is imported here only, so the client package never pays for it.

``gs://BUCKET/PREFIX`` is Google Cloud Storage through its S3-compatible XML API
(``https://storage.googleapis.com``, or ``endpoint_url``, or ``$STORAGE_EMULATOR_HOST`` as Google's
own libraries honour it) with HMAC keys in ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``
(Workload Identity gives no HMAC keys: the XML API needs them). Two things differ from S3 there, both handled here: GCS rejects the
CRC checksum headers boto3 sends by default, and a create-only write is
``x-goog-if-generation-match: 0`` (GCS honours ``If-None-Match`` on reads only).

Encryption at rest: ``S3Options(sse="AES256")`` (S3-managed keys) or ``sse="aws:kms"`` (with
``sse_kms_key_id``, or the account's default KMS key) asks S3 to encrypt every object this store
writes (puts, conditional puts, and each multipart upload). Reads need nothing: S3 decrypts for
any caller allowed to use the key.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path
from typing import Iterator

from .base import ObjectInfo, ProgressFn, Store
from .errors import (
    StoreConflictError,
    StoreCredentialsError,
    StoreError,
    StoreNotFoundError,
    StoreUnreachableError,
)

__all__ = ["S3Store", "S3Options", "GCS_XML_ENDPOINT", "SCHEMES", "SSE_MODES"]

#: Google Cloud Storage's S3-compatible XML API, the default endpoint of ``gs://`` stores.
GCS_XML_ENDPOINT = "https://storage.googleapis.com"
#: URI schemes this backend opens.
SCHEMES = ("s3://", "gs://")
#: Server-side encryption modes a writer can ask for (``x-amz-server-side-encryption``).
SSE_MODES = ("AES256", "aws:kms")


@dataclasses.dataclass(frozen=True)
class S3Options:
    #: Custom endpoint (MinIO, a loopback test server); None uses the AWS chain / AWS_ENDPOINT_URL.
    endpoint_url: str | None = None
    #: Files at or above this size go multipart (upload) or ranged-parallel (download).
    multipart_threshold_bytes: int = 16 * 1024 * 1024
    #: Part size for multipart uploads and ranged GETs.
    multipart_chunk_bytes: int = 16 * 1024 * 1024
    #: Concurrent parts per file.
    max_concurrency: int = 8
    #: Attempts per request, with boto's exponential backoff ("standard" retry mode).
    max_attempts: int = 5
    #: HTTP connections kept per client; None = 2 x max_concurrency (at least 10). A caller that runs
    #: several transfers at once (the sidecar) sizes it to transfers x max_concurrency.
    max_pool_connections: int | None = None
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 60.0
    #: Server-side encryption of every object written: None, "AES256" or "aws:kms".
    sse: str | None = None
    #: With sse="aws:kms": the KMS key id, ARN or alias; None uses the account's default S3 KMS key.
    sse_kms_key_id: str | None = None

    def __post_init__(self) -> None:
        if self.sse is not None and self.sse not in SSE_MODES:
            raise ValueError(f"--s3-sse must be one of {', '.join(SSE_MODES)}, got {self.sse!r}")
        if self.sse_kms_key_id and self.sse != "aws:kms":
            raise ValueError("--s3-sse-kms-key-id needs --s3-sse aws:kms")

    def encryption_args(self) -> dict[str, str]:
        """The PutObject / CreateMultipartUpload arguments that ask for server-side encryption."""
        args = {"ServerSideEncryption": self.sse} if self.sse else {}
        if self.sse_kms_key_id:
            args["SSEKMSKeyId"] = self.sse_kms_key_id
        return args


_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "403"}
_NOT_FOUND_CODES = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}


def _gcs_endpoint() -> str:
    emulator = os.environ.get("STORAGE_EMULATOR_HOST", "").strip()
    if emulator and "://" not in emulator:
        emulator = f"http://{emulator}"
    return emulator or GCS_XML_ENDPOINT


def _gcs_create_only(request, **_kwargs) -> None:
    """GCS's create-only write: ``If-None-Match: *`` becomes ``x-goog-if-generation-match: 0`` (generation 0
    means "no live object"; GCS answers 412 otherwise, as S3 does for If-None-Match)."""
    if request.headers.get("If-None-Match") == "*":
        del request.headers["If-None-Match"]
        request.headers["x-goog-if-generation-match"] = "0"


class S3Store(Store):
    def __init__(self, uri: str, options: S3Options | None = None) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        scheme = next((s for s in SCHEMES if uri.startswith(s)), None)
        if scheme is None:
            raise ValueError(f"{uri!r} is not an object store URI: use s3://BUCKET[/PREFIX] or gs://BUCKET[/PREFIX]")
        self.gcs = scheme == "gs://"
        self.bucket, _, prefix = uri[len(scheme):].partition("/")
        if not self.bucket:
            raise ValueError(f"store URI {uri!r} has no bucket: use {scheme}BUCKET[/PREFIX]")
        self.prefix = prefix.strip("/")
        self.uri = uri.rstrip("/")
        opts = options or S3Options()
        if self.gcs and opts.sse:
            raise ValueError("--s3-sse applies to S3: Google Cloud Storage encrypts every object at rest; "
                             "set a default KMS key on the bucket instead")
        self._encryption = opts.encryption_args()
        extra = {}
        if self.gcs:  # the XML API refuses boto3's default CRC32 request checksums
            extra = {"request_checksum_calculation": "when_required", "response_checksum_validation": "when_required"}
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=opts.endpoint_url or (_gcs_endpoint() if self.gcs else None),
            config=Config(
                retries={"max_attempts": opts.max_attempts, "mode": "standard"},
                connect_timeout=opts.connect_timeout_seconds,
                read_timeout=opts.read_timeout_seconds,
                max_pool_connections=opts.max_pool_connections or max(10, opts.max_concurrency * 2),
                **extra,
            ),
        )
        if self.gcs:
            self._client.meta.events.register("before-sign.s3.PutObject", _gcs_create_only)
        self._transfer = TransferConfig(
            multipart_threshold=opts.multipart_threshold_bytes,
            multipart_chunksize=opts.multipart_chunk_bytes,
            max_concurrency=opts.max_concurrency,
            use_threads=True,
        )

    # -- error mapping --------------------------------------------------------------
    @contextlib.contextmanager
    def _errors(self, what: str):
        from boto3 import exceptions as b3x  # a transfer's ranged GETs give up with RetriesExceededError
        from botocore import exceptions as bx

        where = f"{self.uri} ({what})"
        try:
            yield
        except StoreError:
            raise
        except (bx.NoCredentialsError, bx.PartialCredentialsError) as exc:
            raise StoreCredentialsError(
                f"no S3 credentials for {where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "AWS_PROFILE, or a workload identity"
            ) from exc
        except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError,
                bx.ConnectionClosedError, b3x.RetriesExceededError) as exc:
            raise StoreUnreachableError(
                f"cannot reach the S3 endpoint for {where}: check AWS_ENDPOINT_URL / --s3-endpoint-url "
                f"and the network ({exc})"
            ) from exc
        except bx.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise StoreConflictError(f"{where}: the object already exists") from exc
            if code == "NoSuchBucket":
                raise StoreNotFoundError(
                    f"bucket {self.bucket!r} does not exist at this endpoint: create it or fix --store"
                ) from exc
            if code in _NOT_FOUND_CODES:
                raise StoreNotFoundError(f"{where}: no such object") from exc
            if code in _CREDENTIAL_CODES:
                raise StoreCredentialsError(
                    f"S3 refused the credentials for {where} ({code}): check AWS_ACCESS_KEY_ID / "
                    "AWS_SECRET_ACCESS_KEY and the bucket policy"
                ) from exc
            raise StoreError(f"S3 error for {where}: {code} {exc}") from exc

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    # -- the interface ----------------------------------------------------------------
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        with self._errors(f"list {prefix or '/'}"):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            )
            items = [ObjectInfo(o["Key"][strip:], int(o["Size"])) for page in pages for o in page.get("Contents", [])]
        yield from items

    def read_bytes(self, key: str) -> bytes:
        with self._errors(f"get {key}"):
            return self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def write_bytes(self, key: str, data: bytes) -> None:
        with self._errors(f"put {key}"):
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **self._encryption)

    def create_exclusive(self, key: str, data: bytes) -> None:
        with self._errors(f"conditional put {key}"):
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*",
                                    **self._encryption)

    def upload_file(self, key: str, path: Path, progress: ProgressFn | None = None) -> None:
        with self._errors(f"upload {key}"):
            self._client.upload_file(str(path), self.bucket, self._key(key), Config=self._transfer, Callback=progress,
                                     ExtraArgs=self._encryption or None)

    def download_file(self, key: str, path: Path, progress: ProgressFn | None = None) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with self._errors(f"download {key}"):
            self._client.download_file(self.bucket, self._key(key), str(path), Config=self._transfer, Callback=progress)

    def delete(self, key: str) -> None:
        with self._errors(f"delete {key}"):
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def check(self) -> None:
        """Fail early with one actionable message if the bucket is unusable."""
        with self._errors("head bucket"):
            self._client.head_bucket(Bucket=self.bucket)
