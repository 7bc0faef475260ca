"""An in-memory FileStore, for unit tests and embedders' experiments."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from tailtracker_core.model.files import check_storage_key
from tailtracker_core.ports import BlobNotFound

__all__ = ["MemoryFileStore"]


class MemoryFileStore:
    def __init__(self) -> None:
        self.blobs: dict[str, tuple[bytes, str]] = {}
        self.written: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        check_storage_key(key)
        with self._lock:
            self.blobs[key] = (bytes(data), content_type)
            self.written[key] = datetime.now(UTC)

    def get(self, key: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        check_storage_key(key)
        with self._lock:
            if key not in self.blobs:
                raise BlobNotFound(key)
            data = self.blobs[key][0]
        return iter([data[i : i + chunk_size] for i in range(0, len(data), chunk_size)])

    def exists(self, key: str) -> bool:
        check_storage_key(key)
        with self._lock:
            return key in self.blobs

    def delete(self, key: str) -> None:
        check_storage_key(key)
        with self._lock:
            self.blobs.pop(key, None)

    def delete_prefix(self, prefix: str) -> int:
        check_storage_key(prefix, prefix=True)
        if not prefix.endswith("/"):
            raise ValueError(f"a key prefix ends with '/': {prefix!r}")
        with self._lock:
            doomed = [k for k in self.blobs if k.startswith(prefix)]
            for k in doomed:
                del self.blobs[k]
        return len(doomed)

    def keys(self, prefix: str, written_before: datetime | None = None) -> Iterator[str]:
        check_storage_key(prefix, prefix=True)
        with self._lock:
            found = [
                k
                for k in self.blobs
                if k.startswith(prefix) and (written_before is None or self.written[k] < written_before)
            ]
        return iter(found)

    def ping(self) -> None:
        return None
