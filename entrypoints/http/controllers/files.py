"""Files: upload a pet's photos and documents, list them, fetch and delete them.

Uploads are `multipart/form-data` with one part, `file`. The request body is capped while it
streams in (the controller's `request_max_body_size`: the largest kind's limit plus room for
the multipart framing), Litestar spools the part to a temporary file past 1 MiB, and the
part is read into memory only once its size is known to be within its kind's limit.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar
from urllib.parse import quote
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import OpenAPIMediaType as OpenApiMediaType
from litestar.openapi.spec import OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import Body, QueryParameter
from litestar.response import Stream

from tailtracker_core.errors import FileTooLarge
from tailtracker_core.model.files import FileKind, MediaType, StoredFile, Variant
from tailtracker_core.usecases import files
from tailtracker_core.usecases.deps import Deps

from ..conventions import page_response, paginate, select_fields
from ..idempotency import idempotent
from ..identity import BEARER
from ..params import Claims, Cursor, DepsDep, Fields, IdempotencyKey, Limit, PathId
from ..problems import ApiError, problem_responses
from ..schemas.files import FileOut, FilePage, StorageOut, UploadForm, file_url

__all__ = ["FileController", "MULTIPART_SLACK_BYTES", "file_controller"]

MULTIPART_SLACK_BYTES = 64 * 1024  # boundaries and part headers around the file
NO_COMPRESSION = "no_compression"  # route opt: the app's compression skips it (see app.py)

UploadBody = Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)]
KindFilter = Annotated[FileKind | None, QueryParameter(description="Only photos or only documents.")]
VariantParam = Annotated[
    Variant, QueryParameter(description="`thumbnail` for an image's thumbnail (JPEG, PNG or WebP).")
]


async def require_multipart(request: Request[Any, Any, Any]) -> None:
    """The upload routes' own before_request (instead of the app's JSON-only one)."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        raise ApiError(
            415, "unsupported_media_type", "send the file as multipart/form-data, in a part named `file`"
        )


class _UploadFingerprint(msgspec.Struct):
    """What an Idempotency-Key's replay compares: the same bytes, name and kind."""

    kind: str
    sha256: str
    filename: str | None


def _read(upload: UploadFile, deps: Deps, kind: FileKind) -> files.Upload:
    """The part's bytes, once its size (known from the spooled file) is within the limit."""
    limit = deps.config.files.max_bytes(kind)
    handle = upload.file
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size > limit:
        raise FileTooLarge(f"a {kind.value} may be at most {limit // (1024 * 1024)} MB", limit)
    handle.seek(0)
    return files.Upload(handle.read(), upload.filename or None)


def _ascii_fallback(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = "".join(ch if ch.isalnum() or ch in " ._-()" else "_" for ch in plain).strip(" ._")
    return plain if "." in plain and plain.rsplit(".", 1)[0] else "file." + name.rsplit(".", 1)[-1]


def content_disposition(disposition: str, name: str) -> str:
    """RFC 6266: an ASCII `filename` for old clients and the exact UTF-8 `filename*`."""
    return f"{disposition}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


@dataclass
class _FileBytesOperation(Operation):
    """The 200 of GET /v1/files/{id} documents every type a file is served as."""

    def __post_init__(self) -> None:
        if self.responses is None:
            return
        binary = Schema(type=OpenAPIType.STRING, format="binary")  # type: ignore[arg-type]
        self.responses["200"] = OpenAPIResponse(
            description="The file's bytes, in the type it was stored as",
            content={t.value: OpenApiMediaType(schema=binary) for t in MediaType},
        )


class FileController(Controller):
    path = "/v1"
    tags: ClassVar[list[str]] = ["Files"]
    security = BEARER

    def _upload(
        self,
        request: Request[Any, Any, Any],
        deps: Deps,
        user_id: UUID,
        pet_id: UUID,
        kind: FileKind,
        form: UploadForm,
        idempotency_key: str | None,
    ) -> Response[FileOut]:
        try:
            payload = _read(form.file, deps, kind)
        finally:
            form.file.file.close()
        made: list[StoredFile] = []

        def produce(d: Deps) -> Response[FileOut]:
            stored = files.upload_file(d, user_id, pet_id, kind, payload)
            made.append(stored)
            return Response(
                FileOut.from_file(stored), status_code=201, headers={"Location": file_url(stored.id)}
            )

        fingerprint = _UploadFingerprint(
            kind.value, hashlib.sha256(payload.data).hexdigest(), payload.filename
        )
        try:
            return idempotent(deps, request, user_id, idempotency_key, fingerprint, produce)
        except BaseException:
            # With an Idempotency-Key the row commits after `produce`; when that commit
            # fails, the blobs `produce` wrote have no row: delete them (nothing half stored).
            assert deps.blobs is not None
            for stored in made:
                for key in stored.keys:
                    deps.blobs.delete(key)
            raise

    @post(
        "/pets/{pet_id:str}/photos",
        summary="Upload a photo of a pet",
        description=(
            "Owners and members. `multipart/form-data` with the image in the part `file`: JPEG, PNG, "
            "WebP or HEIC, decided by its content (not its name). The stored copy is re-encoded "
            "without metadata (no EXIF, no GPS) and a thumbnail is made. Too large: 413; not an "
            "accepted image: 415; corrupt, truncated, too many pixels or also another format: 422 "
            "`invalid_file`; over the tier's storage: 403 `tier_limit_exceeded`."
        ),
        status_code=201,
        responses=problem_responses(403, 404, 409, 413, 415),
        before_request=require_multipart,
        sync_to_thread=True,
    )
    def upload_photo(
        self,
        request: Request[Any, Any, Any],
        pet_id: PathId,
        data: UploadBody,
        claims: Claims,
        deps: DepsDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[FileOut]:
        return self._upload(request, deps, claims.user_id, pet_id, FileKind.PHOTO, data, idempotency_key)

    @post(
        "/pets/{pet_id:str}/documents",
        summary="Upload a document of a pet (a vaccination certificate, a lab result, ...)",
        description=(
            "Owners and members. `multipart/form-data` with the file in the part `file`: PDF, or an "
            "image as for photos. PDFs are stored as sent after checks (structure, no JavaScript or "
            "other active content, not also another format); images are re-encoded as for photos. "
            "Refer to it from a medical record's `file_ids` or a vaccination's certificate."
        ),
        status_code=201,
        responses=problem_responses(403, 404, 409, 413, 415),
        before_request=require_multipart,
        sync_to_thread=True,
    )
    def upload_document(
        self,
        request: Request[Any, Any, Any],
        pet_id: PathId,
        data: UploadBody,
        claims: Claims,
        deps: DepsDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[FileOut]:
        return self._upload(request, deps, claims.user_id, pet_id, FileKind.DOCUMENT, data, idempotency_key)

    def _list(
        self,
        deps: Deps,
        user_id: UUID,
        pet_id: UUID,
        kind: FileKind | None,
        limit: int,
        cursor: str | None,
        fields: str | None,
    ) -> FilePage:
        select_fields(FileOut, fields)
        rows, next_cursor = paginate(
            lambda after, n: files.list_files(deps, user_id, pet_id, kind, after, n),
            cursor,
            limit,
            lambda f: f.id,
        )
        return page_response(FilePage, FileOut, [FileOut.from_file(f) for f in rows], next_cursor, fields)

    @get(
        "/pets/{pet_id:str}/photos",
        summary="A pet's photos, oldest first",
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def list_photos(
        self,
        pet_id: PathId,
        claims: Claims,
        deps: DepsDep,
        limit: Limit = 20,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> FilePage:
        return self._list(deps, claims.user_id, pet_id, FileKind.PHOTO, limit, cursor, fields)

    @get(
        "/pets/{pet_id:str}/documents",
        summary="A pet's documents, oldest first",
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def list_documents(
        self,
        pet_id: PathId,
        claims: Claims,
        deps: DepsDep,
        limit: Limit = 20,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> FilePage:
        return self._list(deps, claims.user_id, pet_id, FileKind.DOCUMENT, limit, cursor, fields)

    @get(
        "/files/{file_id:str}",
        summary="The bytes of a file (members of its family)",
        description=(
            "The stored copy (or `?variant=thumbnail`), with its real `Content-Type`, "
            "`Content-Disposition` (inline for images, attachment for PDFs) and "
            "`X-Content-Type-Options: nosniff`. Files never change, so the ETag is their digest "
            "and a private cache may keep them (`If-None-Match` gives 304)."
        ),
        responses=problem_responses(304, 404),
        operation_class=_FileBytesOperation,
        opt={NO_COMPRESSION: True},
        sync_to_thread=True,
    )
    def get_file(
        self,
        request: Request[Any, Any, Any],
        file_id: PathId,
        claims: Claims,
        deps: DepsDep,
        variant: VariantParam = Variant.ORIGINAL,
    ) -> Response[Any]:
        stored = files.get_file(deps, claims.user_id, file_id)
        etag = f'"{stored.sha256}{"-t" if variant is Variant.THUMBNAIL else ""}"'
        headers = {"ETag": etag, "Cache-Control": "private, max-age=31536000, immutable"}
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(b"", status_code=304, headers=headers)
        content = files.open_file(deps, claims.user_id, file_id, variant)
        disposition = "inline" if content.content_type.is_image else "attachment"
        name = stored.original_name
        if variant is Variant.THUMBNAIL:
            stem = name.rsplit(".", 1)[0]
            name = f"{stem}-thumbnail.{content.content_type.extension}"
        headers.update(
            {
                "Content-Disposition": content_disposition(disposition, name),
                "Content-Length": str(content.size_bytes),
                "X-Content-Type-Options": "nosniff",
            }
        )
        return Stream(content.chunks, media_type=content.content_type.value, headers=headers)

    @get(
        "/families/{family_id:str}/storage",
        summary="A family's file storage: used and allowed by its tier",
        description="Every member. Counts the stored copies and thumbnails of the family's files.",
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def storage(self, family_id: PathId, claims: Claims, deps: DepsDep) -> StorageOut:
        usage = files.storage_usage(deps, claims.user_id, family_id)
        return StorageOut(usage.family_id, usage.tier, usage.used_bytes, usage.limit_bytes)

    @delete(
        "/files/{file_id:str}",
        summary="Delete a file (owners and members)",
        description="The row goes at once; the stored bytes are deleted by the worker right after.",
        responses=problem_responses(403, 404),
        sync_to_thread=True,
    )
    def delete_file(self, file_id: PathId, claims: Claims, deps: DepsDep) -> None:
        files.delete_file(deps, claims.user_id, file_id)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def file_controller(max_body_bytes: int) -> type[FileController]:
    """The controller with its body cap: the largest upload limit plus the multipart framing."""
    return type(
        "FileController", (FileController,), {"request_max_body_size": max_body_bytes + MULTIPART_SLACK_BYTES}
    )
