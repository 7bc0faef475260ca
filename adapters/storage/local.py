"""The embedded default FileStore: one file per blob under a root directory."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from tailtracker_core.model.files import check_storage_key
from tailtracker_core.ports import BlobNotFound

__all__ = ["LocalFileStore"]


class LocalFileStore:
    """Blobs as files under `root` (`<root>/<key>`).

    - Keys are checked (`check_storage_key`: ids, dots, dashes and single slashes) and the
      resolved path must stay under the root: no client text ever names a path.
    - Writes go to a temporary file in the target directory, are flushed to disk and renamed
      over the target (atomic on POSIX): a reader sees the whole blob or none, and a crash
      leaves at most a `.tmp-*` file, which `put` of the same key would replace anyway.
    - Files are 0600 and directories 0700: only the service's user reads them.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, key: str, *, prefix: bool = False) -> Path:
        check_storage_key(key, prefix=prefix)
        path = (self.root / key).resolve()
        if path != self.root and self.root not in path.parents:
            raise ValueError(f"not a storage key: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def get(self, key: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        try:
            handle = open(self._path(key), "rb")  # noqa: SIM115 - closed by the generator
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobNotFound(key) from None
        return _chunks(handle, chunk_size)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self._path(key).unlink()

    def delete_prefix(self, prefix: str) -> int:
        if not prefix.endswith("/"):
            raise ValueError(f"a key prefix ends with '/': {prefix!r}")
        directory = self._path(prefix, prefix=True)
        if not directory.is_dir():
            return 0
        count = sum(1 for p in directory.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))
        shutil.rmtree(directory, ignore_errors=True)
        return count

    def keys(self, prefix: str, written_before: datetime | None = None) -> Iterator[str]:
        directory = self._path(prefix, prefix=True)
        cutoff = written_before.timestamp() if written_before is not None else None
        for path in directory.rglob("*") if directory.is_dir() else ():
            try:
                stat = path.stat()
            except FileNotFoundError:  # deleted while we walk
                continue
            if path.is_file() and (cutoff is None or stat.st_mtime < cutoff):
                yield path.relative_to(self.root).as_posix()

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise PermissionError(f"{self.root} is not writable")


def _chunks(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    try:
        while chunk := handle.read(chunk_size):
            yield chunk
    finally:
        handle.close()
