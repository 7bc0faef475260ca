"""FileStore adapters: local disk (the embedded default) and S3-compatible object storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from adapters.storage.local import LocalFileStore

__all__ = ["LocalFileStore", "file_store_from_url"]

_TRUE = {"1", "true", "yes", "on"}


def file_store_from_url(url: str) -> Any:
    """`file:///abs/dir`, `file://./relative/dir` (or `file://var/files`, relative), or
    `s3://[key_id:secret@]bucket[/prefix]?endpoint_url=http://host:9000&region=eu-west-1&create_bucket=1`."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme == "file":
        directory = parts.path if parts.netloc in ("", "localhost") else parts.netloc + parts.path
        if not directory:
            raise ValueError(f"files URL {url!r} names no directory")
        return LocalFileStore(Path(unquote(directory)))
    if parts.scheme == "s3":
        if not parts.hostname:
            raise ValueError(f"files URL {url!r} names no bucket")
        from adapters.storage.s3 import S3FileStore  # boto3 only where S3 is used

        return S3FileStore(
            parts.hostname,
            prefix=unquote(parts.path),
            endpoint_url=query.get("endpoint_url"),
            region=query.get("region"),
            access_key_id=unquote(parts.username) if parts.username else None,
            secret_access_key=unquote(parts.password) if parts.password is not None else None,
            create_bucket=query.get("create_bucket", "").lower() in _TRUE,
        )
    raise ValueError(f"files URL {url!r}: use file:// or s3://")
