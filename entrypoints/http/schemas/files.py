"""Files: pets' photos and documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import msgspec
from litestar.datastructures import UploadFile

from tailtracker_core.model.files import FileKind, StoredFile

from . import utc

__all__ = ["FileOut", "FilePage", "StorageOut", "UploadForm", "file_url"]


@dataclass
class UploadForm:
    """`multipart/form-data` with one part, `file`: the bytes (its name is kept, sanitised, for
    downloads only; its declared type is ignored: the content decides)."""

    file: UploadFile


def file_url(file_id: UUID, thumbnail: bool = False) -> str:
    return f"/v1/files/{file_id}" + ("?variant=thumbnail" if thumbnail else "")


class FileOut(msgspec.Struct):
    id: UUID
    pet_id: UUID
    kind: FileKind
    url: str  # GET it with your bearer token for the bytes
    content_type: str
    size_bytes: int
    width: int | None
    height: int | None
    thumbnail_url: str | None
    original_name: str
    created_by: UUID
    created_at: datetime

    @classmethod
    def from_file(cls, f: StoredFile) -> FileOut:
        return cls(
            id=f.id,
            pet_id=f.pet_id,
            kind=f.kind,
            url=file_url(f.id),
            content_type=f.content_type.value,
            size_bytes=f.size_bytes,
            width=f.width,
            height=f.height,
            thumbnail_url=file_url(f.id, thumbnail=True) if f.thumbnail_key else None,
            original_name=f.original_name,
            created_by=f.created_by,
            created_at=utc(f.created_at),
        )


class FilePage(msgspec.Struct):
    items: list[FileOut]
    next_cursor: str | None


class StorageOut(msgspec.Struct):
    family_id: UUID
    tier: str
    used_bytes: int  # stored copies and thumbnails of the family's files
    limit_bytes: int  # the tier's file storage
