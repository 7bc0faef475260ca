"""Stored files' metadata in SQL: the `files` table, its row mapping and repository.

The bytes are in a FileStore; a row names them by `storage_key` and `thumbnail_key`. Rows go
with their pet or family (ON DELETE CASCADE); the worker deletes the blobs after the
`pet.deleted`/`family.deleted`/`file.deleted` events (docs/files.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Uuid,
    delete,
    func,
    or_,
    select,
    text,
)

from adapters.sql.tables import UtcDateTime, metadata
from tailtracker_core.errors import Conflict
from tailtracker_core.model.files import FileKind, MediaType, StoredFile

__all__ = ["SqlFiles", "file_from", "file_row", "files"]

files = Table(
    "files",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("family_id", Uuid, ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
    Column("pet_id", Uuid, ForeignKey("pets.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(512), nullable=False),
    Column("original_name", String(255), nullable=False),
    Column("created_by", Uuid, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("thumbnail_key", String(512)),
    Column("thumbnail_content_type", String(64)),
    Column("thumbnail_size_bytes", BigInteger, nullable=False),
    Index("ix_files_pet_id_kind_id", "pet_id", "kind", "id"),
    Index("ix_files_family_id", "family_id"),
    Index("ix_files_storage_key", "storage_key"),
    Index("ix_files_thumbnail_key", "thumbnail_key"),
)

# The orphan sweep's cross-family read (migration 0008_file_keys; docs/files.md).
_KNOWN_KEYS = text("SELECT k FROM tt_known_file_keys(CAST(:keys AS text[])) AS k")


def file_row(f: StoredFile) -> dict[str, Any]:
    return {
        "id": f.id,
        "family_id": f.family_id,
        "pet_id": f.pet_id,
        "kind": f.kind.value,
        "content_type": f.content_type.value,
        "size_bytes": f.size_bytes,
        "sha256": f.sha256,
        "storage_key": f.storage_key,
        "original_name": f.original_name,
        "created_by": f.created_by,
        "created_at": f.created_at,
        "width": f.width,
        "height": f.height,
        "thumbnail_key": f.thumbnail_key,
        "thumbnail_content_type": f.thumbnail_content_type.value if f.thumbnail_content_type else None,
        "thumbnail_size_bytes": f.thumbnail_size_bytes,
    }


def file_from(r: Any) -> StoredFile:
    return StoredFile(
        id=r["id"],
        family_id=r["family_id"],
        pet_id=r["pet_id"],
        kind=FileKind(r["kind"]),
        content_type=MediaType(r["content_type"]),
        size_bytes=r["size_bytes"],
        sha256=r["sha256"],
        storage_key=r["storage_key"],
        original_name=r["original_name"],
        created_by=r["created_by"],
        created_at=r["created_at"],
        width=r["width"],
        height=r["height"],
        thumbnail_key=r["thumbnail_key"],
        thumbnail_content_type=MediaType(r["thumbnail_content_type"])
        if r["thumbnail_content_type"]
        else None,
        thumbnail_size_bytes=r["thumbnail_size_bytes"],
    )


class SqlFiles:
    def __init__(self, conn: Callable[[], Connection]) -> None:
        self._conn = conn

    def add(self, file: StoredFile) -> None:
        conn = self._conn()
        if conn.execute(select(files.c.id).where(files.c.id == file.id)).first() is not None:
            raise Conflict("this file is stored already")
        conn.execute(files.insert().values(file_row(file)))

    def get(self, file_id: UUID) -> StoredFile | None:
        row = self._conn().execute(select(files).where(files.c.id == file_id)).mappings().first()
        return file_from(row) if row else None

    def get_many(self, file_ids: Sequence[UUID]) -> list[StoredFile]:
        if not file_ids:
            return []
        rows = (
            self._conn()
            .execute(select(files).where(files.c.id.in_(list(dict.fromkeys(file_ids)))))
            .mappings()
        )
        return [file_from(r) for r in rows]

    def list_for_pet(
        self, pet_id: UUID, kind: FileKind | None, after: UUID | None, limit: int
    ) -> list[StoredFile]:
        stmt = select(files).where(files.c.pet_id == pet_id)
        if kind is not None:
            stmt = stmt.where(files.c.kind == kind.value)
        if after is not None:
            stmt = stmt.where(files.c.id > after)
        rows = self._conn().execute(stmt.order_by(files.c.id).limit(limit)).mappings()
        return [file_from(r) for r in rows]

    def delete(self, file_id: UUID) -> None:
        self._conn().execute(delete(files).where(files.c.id == file_id))

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return set()
        conn = self._conn()
        if conn.dialect.name == "postgresql":  # past row-level security, by design (docs/files.md)
            known = conn.execute(_KNOWN_KEYS, {"keys": wanted}).scalars()
            return set(known)
        rows = conn.execute(
            select(files.c.storage_key, files.c.thumbnail_key).where(
                or_(files.c.storage_key.in_(wanted), files.c.thumbnail_key.in_(wanted))
            )
        )
        named = {k for row in rows for k in row if k is not None}
        return {k for k in wanted if k in named}

    def usage_of_family(self, family_id: UUID) -> int:
        total = func.coalesce(func.sum(files.c.size_bytes + files.c.thumbnail_size_bytes), 0)
        return int(self._conn().execute(select(total).where(files.c.family_id == family_id)).scalar_one())
