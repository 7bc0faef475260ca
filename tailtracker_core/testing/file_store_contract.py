"""Contract of the FileStore port, as a pytest base class.

Subclass `FileStoreContract` in a test module and provide a `store` fixture: the adapter
under test, over an empty root/bucket of its own. Every test uses keys under a fresh family
id, so a shared bucket works too.
"""

from __future__ import annotations

import os
import threading
from uuid import uuid4

import pytest

from tailtracker_core.model.files import family_prefix, pet_prefix, storage_keys
from tailtracker_core.ports import BlobNotFound, FileStore

__all__ = ["FileStoreContract"]


def _keys() -> tuple[str, str]:
    return storage_keys(uuid4(), uuid4(), uuid4())


def _read(store: FileStore, key: str, chunk_size: int = 64 * 1024) -> bytes:
    return b"".join(store.get(key, chunk_size))


class FileStoreContract:
    def test_a_blob_round_trips(self, store: FileStore) -> None:
        key, _ = _keys()
        store.put(key, b"\x00\xffhello", "image/jpeg")
        assert _read(store, key) == b"\x00\xffhello"
        assert store.exists(key)

    def test_a_large_blob_comes_back_in_chunks_of_the_size_asked(self, store: FileStore) -> None:
        key, _ = _keys()
        data = os.urandom(3 * 1024 * 1024 + 17)
        store.put(key, data, "application/pdf")
        chunks = list(store.get(key, 1024 * 1024))
        assert b"".join(chunks) == data
        assert len(chunks) >= 4
        assert all(len(c) <= 1024 * 1024 for c in chunks)

    def test_a_missing_blob_raises_before_any_chunk(self, store: FileStore) -> None:
        key, _ = _keys()
        with pytest.raises(BlobNotFound):
            store.get(key)  # the call itself raises, so a response can still be a 404
        assert not store.exists(key)

    def test_put_replaces_a_blob_whole(self, store: FileStore) -> None:
        key, _ = _keys()
        store.put(key, b"first version, rather long" * 100, "image/png")
        store.put(key, b"second", "image/png")
        assert _read(store, key) == b"second"

    def test_delete_forgets_and_is_idempotent(self, store: FileStore) -> None:
        key, thumb = _keys()
        store.put(key, b"a", "image/webp")
        store.put(thumb, b"b", "image/webp")
        store.delete(key)
        store.delete(key)  # a retried delete is no error
        assert not store.exists(key)
        with pytest.raises(BlobNotFound):
            store.get(key)
        assert _read(store, thumb) == b"b"

    def test_delete_prefix_deletes_one_pet_or_one_family_and_nothing_else(self, store: FileStore) -> None:
        family, other_family = uuid4(), uuid4()
        pet, other_pet = uuid4(), uuid4()
        a = storage_keys(family, pet, uuid4())
        b = storage_keys(family, pet, uuid4())
        c = storage_keys(family, other_pet, uuid4())
        d = storage_keys(other_family, pet, uuid4())
        for key in (*a, *b, *c, *d):
            store.put(key, key.encode(), "image/jpeg")
        assert store.delete_prefix(pet_prefix(family, pet)) == 4
        assert not any(store.exists(k) for k in (*a, *b))
        assert all(store.exists(k) for k in (*c, *d))
        assert store.delete_prefix(family_prefix(family)) == 2
        assert not any(store.exists(k) for k in c)
        assert all(_read(store, k) == k.encode() for k in d)
        assert store.delete_prefix(family_prefix(family)) == 0  # again: nothing left, no error

    def test_a_prefix_is_a_directory_not_a_string_prefix(self, store: FileStore) -> None:
        family = uuid4()
        key, _ = storage_keys(family, uuid4(), uuid4())
        store.put(key, b"x", "image/png")
        # the same text without its closing slash is no prefix at all
        with pytest.raises(ValueError, match="prefix"):
            store.delete_prefix(family_prefix(family).rstrip("/"))
        assert store.exists(key)

    @pytest.mark.parametrize(
        "key",
        [
            "../escape",
            "families/../../etc/passwd",
            "/etc/passwd",
            "families//x",
            "families/./x",
            "Families/X",
            "families/x/",
            "families/x\x00.jpg",
            "families/x\\..\\y",
            "",
            "families/" + "a" * 600,
        ],
    )
    def test_keys_that_are_not_generated_names_are_refused(self, store: FileStore, key: str) -> None:
        with pytest.raises(ValueError, match="storage key"):
            store.put(key, b"x", "image/png")
        with pytest.raises(ValueError, match="storage key"):
            store.get(key)
        with pytest.raises(ValueError, match="storage key"):
            store.delete(key)

    def test_concurrent_writers_of_one_key_leave_one_whole_blob(self, store: FileStore) -> None:
        key, _ = _keys()
        versions = [bytes([i]) * (256 * 1024) for i in range(6)]
        barrier = threading.Barrier(len(versions))
        errors: list[BaseException] = []

        def write(data: bytes) -> None:
            try:
                barrier.wait()
                store.put(key, data, "image/jpeg")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(v,)) for v in versions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert _read(store, key) in versions

    def test_keys_lists_a_prefix_and_honours_the_written_before_cutoff(self, store: FileStore) -> None:
        from datetime import UTC, datetime, timedelta

        family, other = uuid4(), uuid4()
        mine = [k for _ in range(3) for k in storage_keys(family, uuid4(), uuid4())]
        theirs = storage_keys(other, uuid4(), uuid4())[0]
        for key in (*mine, theirs):
            store.put(key, b"x", "image/jpeg")
        assert sorted(store.keys(family_prefix(family))) == sorted(mine)
        later = datetime.now(UTC) + timedelta(minutes=5)
        earlier = datetime.now(UTC) - timedelta(minutes=5)
        assert sorted(store.keys(family_prefix(family), later)) == sorted(mine)
        assert list(store.keys(family_prefix(family), earlier)) == []
        assert list(store.keys(family_prefix(uuid4()))) == []
