"""Files: pet photos and documents (vaccination certificates, medical-record attachments).

The rules here are pure: what an upload is (decided by its magic bytes, never by its name or
the client's Content-Type), whether it may be stored (size per kind, no polyglots, PDFs that
are structurally PDFs without active content), what its stored names are (generated, never
the client's), and how a family's storage use is counted. Decoding and re-encoding images is
an adapter's job (the `ImageProcessor` port); see docs/files.md.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from attrs import frozen

from tailtracker_core.errors import FileRejected, FileTooLarge, UnsupportedFileType, ValidationFailed

__all__ = [
    "FileKind",
    "FileRules",
    "IMAGE_TYPES",
    "MediaType",
    "StoredFile",
    "Variant",
    "check_storage_key",
    "check_upload",
    "family_prefix",
    "find_polyglot",
    "pet_prefix",
    "require_files_of_pet",
    "safe_filename",
    "sniff",
    "storage_keys",
]

_MB = 1024 * 1024


class FileKind(enum.StrEnum):
    PHOTO = "photo"  # a picture of the pet: images only
    DOCUMENT = "document"  # a certificate, a lab result, an invoice: PDF or an image


class Variant(enum.StrEnum):
    ORIGINAL = "original"  # the stored copy (re-encoded for images)
    THUMBNAIL = "thumbnail"  # images only


class MediaType(enum.StrEnum):
    JPEG = "image/jpeg"
    PNG = "image/png"
    WEBP = "image/webp"
    HEIC = "image/heic"
    PDF = "application/pdf"

    @property
    def is_image(self) -> bool:
        return self is not MediaType.PDF

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self]


_EXTENSIONS = {
    MediaType.JPEG: "jpg",
    MediaType.PNG: "png",
    MediaType.WEBP: "webp",
    MediaType.HEIC: "heic",
    MediaType.PDF: "pdf",
}

IMAGE_TYPES = frozenset(t for t in MediaType if t.is_image)


@frozen
class FileRules:
    """Upload limits (defaults; the composition root may replace them from settings).

    `max_pixels` is checked from the image header before any pixel is decoded. 50 MP admits
    the 48 MP photos of current phones. Stored copies are scaled down to `max_edge` pixels on
    their longest side; thumbnails to `thumbnail_edge`.
    """

    photo_max_bytes: int = 15 * _MB
    document_max_bytes: int = 20 * _MB
    max_pixels: int = 50_000_000
    max_edge: int = 4096
    thumbnail_edge: int = 512
    heic_enabled: bool = True  # turned off by the composition root when no HEIF decoder is present

    def max_bytes(self, kind: FileKind) -> int:
        return self.photo_max_bytes if kind is FileKind.PHOTO else self.document_max_bytes

    def accepted(self, kind: FileKind) -> frozenset[MediaType]:
        images = IMAGE_TYPES if self.heic_enabled else IMAGE_TYPES - {MediaType.HEIC}
        return images if kind is FileKind.PHOTO else images | {MediaType.PDF}


@frozen
class StoredFile:
    """A stored file's metadata. `storage_key`/`thumbnail_key` are generated blob names;
    `original_name` is the client's name, sanitised, for Content-Disposition only."""

    id: UUID
    family_id: UUID
    pet_id: UUID
    kind: FileKind
    content_type: MediaType
    size_bytes: int
    sha256: str  # of the stored bytes
    storage_key: str
    original_name: str
    created_by: UUID
    created_at: datetime
    width: int | None = None
    height: int | None = None
    thumbnail_key: str | None = None
    thumbnail_content_type: MediaType | None = None
    thumbnail_size_bytes: int = 0

    @property
    def stored_bytes(self) -> int:
        """What this file costs the family's quota: the stored copy and its thumbnail."""
        return self.size_bytes + self.thumbnail_size_bytes

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.storage_key, self.thumbnail_key) if self.thumbnail_key else (self.storage_key,)


def storage_keys(family_id: UUID, pet_id: UUID, file_id: UUID) -> tuple[str, str]:
    """The blob names of a file and its thumbnail: ids only, so nothing a client sends ever
    reaches a path or an object key. Grouped by family and pet, so that deleting a pet or a
    family can delete its blobs by prefix (`pet_prefix`, `family_prefix`)."""
    base = f"{pet_prefix(family_id, pet_id)}{file_id}"
    return base, base + ".thumb"


def family_prefix(family_id: UUID) -> str:
    return f"families/{family_id}/"


def pet_prefix(family_id: UUID, pet_id: UUID) -> str:
    return f"{family_prefix(family_id)}pets/{pet_id}/"


# --- what is it? ------------------------------------------------------------------------------

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})


def sniff(data: bytes) -> MediaType | None:
    """The type the leading bytes prove, or None. Names and declared types are never asked."""
    if data.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return MediaType.WEBP
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return MediaType.HEIC
    if re.match(rb"%PDF-[12]\.\d", data[:8]):
        return MediaType.PDF
    return None


# Markers of content a browser, a shell or an interpreter would act on. Compressed image and
# PDF data is close to random, so a marker found by chance must be unlikely: the long ones
# (7+ characters, about 2^-50 per position) are looked for everywhere, the short ones only in
# the first KiB, which is where browsers sniff for markup (and where headers, not pixels, are).
_ACTIVE_ANYWHERE = re.compile(
    rb"<script|<!doctype|<iframe|<object|<embed\s|<\?xml-stylesheet|javascript:|<html\s*>",
    re.IGNORECASE,
)
_ACTIVE_HEAD = re.compile(rb"<\?php|<html|<svg|<body|<head|<meta|<img\s|<a\s+href", re.IGNORECASE)
_HEAD = 1024
# Active content in a PDF (the stored copy of a PDF is the uploaded bytes, so we look).
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)\b")
_ZIP_EOCD = b"PK\x05\x06"


def _zip_directory(data: bytes) -> bool:
    """True when `data` ends in a consistent ZIP central directory (what ZIP readers look for:
    the end record within the last 64 KiB, pointing at a central directory header)."""
    start = max(0, len(data) - 65_557)
    pos = data.rfind(_ZIP_EOCD, start)
    while pos != -1:
        if pos + 22 <= len(data):
            cd_size = int.from_bytes(data[pos + 12 : pos + 16], "little")
            cd_offset = int.from_bytes(data[pos + 16 : pos + 20], "little")
            if cd_offset + cd_size <= pos and data[cd_offset : cd_offset + 4] == b"PK\x01\x02":
                return True
            # also an archive appended to another file (offsets relative to the archive)
            cd_start = pos - cd_size
            if cd_size and cd_start >= 0 and data[cd_start : cd_start + 4] == b"PK\x01\x02":
                return True
        pos = data.rfind(_ZIP_EOCD, start, pos)
    return False


def find_polyglot(data: bytes, media_type: MediaType) -> str | None:
    """What else `data` is besides `media_type` (HTML, script, SVG, ZIP, PDF), or None."""
    if m := _ACTIVE_ANYWHERE.search(data) or _ACTIVE_HEAD.search(data, 0, _HEAD):
        return f"it also holds markup or script ({m.group().decode('ascii', 'replace').lower()!r})"
    if _zip_directory(data):
        return "it is also a ZIP archive"
    # PDF readers look for their header anywhere in the first KiB.
    if media_type.is_image and b"%PDF-" in data[:_HEAD]:
        return "it is also a PDF"
    return None


def _check_pdf(data: bytes) -> None:
    tail = data[-1024:]
    if b"%%EOF" not in tail or b"startxref" not in data[-2048:]:
        raise FileRejected(
            "not a complete PDF: the trailer (startxref, %%EOF) is missing; it may be truncated"
        )
    if b" obj" not in data and b"\nobj" not in data and b"\robj" not in data:
        raise FileRejected("not a PDF: it holds no objects")
    if m := _PDF_ACTIVE.search(data):
        raise FileRejected(
            f"PDFs with active content are not accepted ({m.group().decode('ascii', 'replace')}); "
            "print it to a new PDF and upload that"
        )


def check_upload(data: bytes, kind: FileKind, rules: FileRules) -> MediaType:
    """The media type of an upload of this kind, or the reason it is refused:
    FileTooLarge (413), UnsupportedFileType (415), FileRejected (422)."""
    limit = rules.max_bytes(kind)
    if len(data) > limit:
        raise FileTooLarge(f"a {kind.value} may be at most {limit // _MB} MB", limit)
    if not data:
        raise FileRejected("the file is empty")
    media_type = sniff(data[:16])
    accepted = rules.accepted(kind)
    if media_type is None or media_type not in accepted:
        names = ", ".join(sorted(_NAMES[t] for t in accepted))
        found = f"this is {_NAMES[media_type]}" if media_type else "its content is none of them"
        raise UnsupportedFileType(f"a {kind.value} must be {names}; {found}")
    if reason := find_polyglot(data, media_type):
        raise FileRejected(f"refused: the file claims to be {_NAMES[media_type]} but {reason}")
    if media_type is MediaType.PDF:
        _check_pdf(data)
    return media_type


_NAMES = {
    MediaType.JPEG: "JPEG",
    MediaType.PNG: "PNG",
    MediaType.WEBP: "WebP",
    MediaType.HEIC: "HEIC",
    MediaType.PDF: "PDF",
}


# --- names ------------------------------------------------------------------------------------

_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;%]+')


def safe_filename(name: str | None, media_type: MediaType, fallback: str) -> str:
    """The client's file name made safe for a Content-Disposition header: the last path
    segment, NFC, no control or quoting characters, at most 100 characters, and the extension
    of what the file really is (an `invoice.html` that is a PDF is served as `invoice.pdf`)."""
    raw = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    raw = unicodedata.normalize("NFC", raw)
    raw = "".join(ch for ch in raw if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    raw = _UNSAFE.sub("_", raw).strip(" ._")
    stem = raw.rsplit(".", 1)[0] if "." in raw else raw
    stem = stem.strip(" ._")[:90] or fallback
    return f"{stem}.{media_type.extension}"


# --- used by other features ---------------------------------------------------------------------


def require_files_of_pet(
    files: Iterable[StoredFile | None], file_ids: Iterable[UUID], pet_id: UUID, field: str
) -> None:
    """ValidationFailed naming `field` unless every id is a stored file of this pet
    (medical-record attachments, vaccination certificates)."""
    found = {f.id: f for f in files if f is not None}
    for file_id in file_ids:
        f = found.get(file_id)
        if f is None or f.pet_id != pet_id:
            raise ValidationFailed.single(field, f"{file_id} is not a file of this pet; upload it first")


_KEY = re.compile(r"[a-z0-9](?:[a-z0-9._-]|/(?!/))*")


def check_storage_key(key: str, *, prefix: bool = False) -> str:
    """A blob key or key prefix as `storage_keys` makes them: lower-case ids, dots, dashes and
    single slashes; no leading slash, no `..` segment. Adapters call it before touching a path
    or an object, so no key can walk out of their root. ValueError otherwise."""
    if (
        not 0 < len(key) <= 512
        or not _KEY.fullmatch(key)
        or any(part in ("", ".", "..") for part in key.rstrip("/").split("/"))
        or (key.endswith("/") and not prefix)
    ):
        raise ValueError(f"not a storage key: {key!r}")
    return key
