"""FileStore on S3-compatible object storage (AWS S3, MinIO, Ceph, R2, ...), with boto3."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from tailtracker_core.model.files import check_storage_key
from tailtracker_core.ports import BlobNotFound

__all__ = ["S3FileStore"]

_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3FileStore:
    """One object per blob in `bucket`, under an optional key `prefix`.

    PUT of a whole object is atomic in S3 (readers see the old object or the new one), so no
    temporary objects are needed. Objects are written with the blob's content type and
    `private` ACL semantics (the bucket must not be public: the API authorises every read).
    Credentials come from the URL or from boto3's usual chain (environment, profile, role).
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        create_bucket: bool = False,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region or "us-east-1",
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                s3={"addressing_style": "path"} if endpoint_url else {},
            ),
        )
        if create_bucket:
            self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def _key(self, key: str, *, prefix: bool = False) -> str:
        return self.prefix + check_storage_key(key, prefix=prefix)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def get(self, key: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise BlobNotFound(key) from None
            raise
        return _chunks(response["Body"], chunk_size)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        # DeleteObject succeeds for a missing key.
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_prefix(self, prefix: str) -> int:
        if not prefix.endswith("/"):
            raise ValueError(f"a key prefix ends with '/': {prefix!r}")
        full = self._key(prefix, prefix=True)
        deleted = 0
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:  # at most 1000 per page, the DeleteObjects limit
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
        return deleted

    def keys(self, prefix: str, written_before: datetime | None = None) -> Iterator[str]:
        full = self._key(prefix, prefix=True)
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            for obj in page.get("Contents", []):
                if written_before is None or obj["LastModified"] < written_before:
                    yield obj["Key"][len(self.prefix) :]

    def ping(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def _chunks(body: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()
