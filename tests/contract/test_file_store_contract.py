"""The FileStore contract against every adapter: memory, local disk, and S3 (boto3 against a
real S3-compatible server process, moto's server mode)."""

from __future__ import annotations

import os
from pathlib import Path
from uuid import uuid4

import pytest

from adapters.memory.files import MemoryFileStore
from adapters.storage import LocalFileStore, file_store_from_url
from tailtracker_core.model.files import storage_keys
from tailtracker_core.ports import FileStore
from tailtracker_core.testing.file_store_contract import FileStoreContract


class TestMemoryFileStore(FileStoreContract):
    @pytest.fixture
    def store(self) -> FileStore:
        return MemoryFileStore()


class TestLocalFileStore(FileStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> FileStore:
        return file_store_from_url(f"file://{tmp_path / 'files'}")


class TestS3FileStore(FileStoreContract):
    @pytest.fixture
    def store(self, s3_url: str) -> FileStore:
        return file_store_from_url(s3_url)


class TestS3FileStoreWithAKeyPrefix(FileStoreContract):
    @pytest.fixture
    def store(self, s3_url: str) -> FileStore:
        head, _, query = s3_url.partition("?")
        return file_store_from_url(f"{head}/tenant-a?{query}")


# --- what only the local disk adapter can show ---------------------------------------------------


def test_local_blobs_live_under_the_root_with_generated_names_only(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files")
    key, _ = storage_keys(uuid4(), uuid4(), uuid4())
    store.put(key, b"data", "image/jpeg")
    files = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert files == [tmp_path / "files" / key]
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    assert not (tmp_path / "escape").exists()


def test_a_failed_local_write_leaves_the_old_blob_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalFileStore(tmp_path / "files")
    key, _ = storage_keys(uuid4(), uuid4(), uuid4())
    store.put(key, b"old", "image/jpeg")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        store.put(key, b"new", "image/jpeg")
    monkeypatch.undo()
    assert b"".join(store.get(key)) == b"old"
    leftovers = [p.name for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert leftovers == [os.path.basename(key)]


def test_a_symlink_planted_in_the_root_is_not_followed_out_of_it(tmp_path: Path) -> None:
    root = tmp_path / "files"
    store = LocalFileStore(root)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "families").symlink_to(outside, target_is_directory=True)
    key, _ = storage_keys(uuid4(), uuid4(), uuid4())
    with pytest.raises(ValueError, match="storage key"):
        store.put(key, b"x", "image/jpeg")
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("url", ["ftp://x", "s3://", "file://"])
def test_unusable_files_urls_are_refused_with_the_reason(url: str) -> None:
    with pytest.raises(ValueError, match="files URL"):
        file_store_from_url(url)
