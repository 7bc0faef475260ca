"""The pure file rules: type by magic bytes, size per kind, polyglots, PDF sanity, names,
storage keys, attachments of a pet."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tailtracker_core.errors import FileRejected, FileTooLarge, UnsupportedFileType, ValidationFailed
from tailtracker_core.model.files import (
    FileKind,
    FileRules,
    MediaType,
    check_storage_key,
    check_upload,
    find_polyglot,
    require_files_of_pet,
    safe_filename,
    sniff,
    storage_keys,
)
from tests.fixtures import files as samples

RULES = FileRules()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (samples.jpeg(), MediaType.JPEG),
        (samples.png(), MediaType.PNG),
        (samples.webp(), MediaType.WEBP),
        (samples.heic(), MediaType.HEIC),
        (samples.pdf(), MediaType.PDF),
        (samples.html_named_jpg(), None),
        (b"GIF89a" + b"\x00" * 20, None),
        (b"", None),
        (b"RIFF\x00\x00\x00\x00WAVE", None),
    ],
)
def test_the_type_is_what_the_leading_bytes_prove(data: bytes, expected: MediaType | None) -> None:
    assert sniff(data[:16]) is expected


@pytest.mark.parametrize(
    ("data", "kind", "expected"),
    [
        (samples.jpeg(), FileKind.PHOTO, MediaType.JPEG),
        (samples.png(), FileKind.PHOTO, MediaType.PNG),
        (samples.webp(), FileKind.PHOTO, MediaType.WEBP),
        (samples.heic(), FileKind.PHOTO, MediaType.HEIC),
        (samples.pdf(), FileKind.DOCUMENT, MediaType.PDF),
        (samples.jpeg(), FileKind.DOCUMENT, MediaType.JPEG),
    ],
)
def test_accepted_uploads(data: bytes, kind: FileKind, expected: MediaType) -> None:
    assert check_upload(data, kind, RULES) is expected


def test_a_pdf_is_not_a_photo() -> None:
    with pytest.raises(UnsupportedFileType, match="photo must be"):
        check_upload(samples.pdf(), FileKind.PHOTO, RULES)


def test_html_named_like_a_jpeg_is_refused_as_unsupported() -> None:
    with pytest.raises(UnsupportedFileType):
        check_upload(samples.html_named_jpg(), FileKind.PHOTO, RULES)


def test_heic_is_refused_when_no_decoder_is_configured() -> None:
    with pytest.raises(UnsupportedFileType):
        check_upload(samples.heic(), FileKind.PHOTO, FileRules(heic_enabled=False))


def test_the_size_limit_is_per_kind() -> None:
    rules = FileRules(photo_max_bytes=1000, document_max_bytes=5000)
    big_pdf = samples.pdf(text="x" * 2000)
    with pytest.raises(FileTooLarge) as too_large:
        check_upload(samples.jpeg(), FileKind.PHOTO, rules)
    assert too_large.value.limit_bytes == 1000
    assert check_upload(big_pdf, FileKind.DOCUMENT, rules) is MediaType.PDF


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(FileRejected, match="empty"):
        check_upload(b"", FileKind.PHOTO, RULES)


@pytest.mark.parametrize(
    ("data", "kind", "reason"),
    [
        (samples.jpeg_with_script_comment(), FileKind.PHOTO, "markup or script"),
        (samples.jpeg_with_zip_appended(), FileKind.PHOTO, "ZIP"),
        (samples.pdf_with_html(), FileKind.DOCUMENT, "markup or script"),
        (samples.jpeg((32, 32))[:200] + b"%PDF-1.4" + samples.jpeg((32, 32))[200:], FileKind.PHOTO, "PDF"),
        (
            samples.pdf() + b"PK\x05\x06" + b"\x00" * 18,
            FileKind.DOCUMENT,
            None,
        ),  # a stray marker is not a ZIP
    ],
)
def test_polyglots_are_refused(data: bytes, kind: FileKind, reason: str | None) -> None:
    if reason is None:
        assert find_polyglot(data, MediaType.PDF) is None
        return
    with pytest.raises(FileRejected, match=reason) as refused:
        check_upload(data, kind, RULES)
    assert refused.value.errors[0].field == "file"
    assert refused.value.code == "invalid_file"


def test_a_pdf_with_javascript_is_refused() -> None:
    with pytest.raises(FileRejected, match="active content"):
        check_upload(samples.pdf_with_javascript(), FileKind.DOCUMENT, RULES)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_a_truncated_pdf_is_refused(keep: float) -> None:
    with pytest.raises(FileRejected, match=r"truncated|objects"):
        check_upload(samples.truncated(samples.pdf(), keep), FileKind.DOCUMENT, RULES)


def test_a_pdf_header_alone_is_not_a_pdf() -> None:
    with pytest.raises(FileRejected):
        check_upload(b"%PDF-1.4\nstartxref\n0\n%%EOF\n", FileKind.DOCUMENT, RULES)


@given(st.binary(min_size=0, max_size=4096))
def test_random_bytes_never_pass_as_a_pdf_and_never_raise_anything_else(data: bytes) -> None:
    try:
        media = check_upload(data, FileKind.DOCUMENT, RULES)
    except (FileRejected, UnsupportedFileType):
        return
    assert media in MediaType  # only if random bytes happened to start like an image


@pytest.mark.parametrize(
    ("name", "media", "expected"),
    [
        ("Biscuit.jpg", MediaType.JPEG, "Biscuit.jpg"),
        ("../../etc/passwd", MediaType.PDF, "passwd.pdf"),
        ("C:\\Users\\me\\cert.PDF", MediaType.PDF, "cert.pdf"),
        ('evil"; filename=x.html', MediaType.PNG, "evil_ filename=x.png"),
        ("invoice.html", MediaType.PDF, "invoice.pdf"),
        ("Ünïcödé 🐶.heic", MediaType.JPEG, "Ünïcödé 🐶.jpg"),
        ("line\r\nbreak.jpg", MediaType.JPEG, "linebreak.jpg"),
        ("\u202eexe.jpg", MediaType.JPEG, "exe.jpg"),
        ("", MediaType.JPEG, "photo.jpg"),
        (None, MediaType.PDF, "document.pdf"),
        ("....", MediaType.PDF, "document.pdf"),
        ("a" * 300 + ".jpg", MediaType.JPEG, "a" * 90 + ".jpg"),
    ],
)
def test_client_names_are_sanitised_for_downloads(name: str | None, media: MediaType, expected: str) -> None:
    fallback = "document" if media is MediaType.PDF else "photo"
    assert safe_filename(name, media, fallback) == expected


@given(st.text())
def test_a_sanitised_name_never_holds_a_path_or_a_header_break(name: str) -> None:
    safe = safe_filename(name, MediaType.JPEG, "photo")
    assert safe.endswith(".jpg") and 4 < len(safe) <= 94
    assert not any(ch in safe for ch in '/\\"\r\n\x00;')


def test_storage_keys_are_generated_from_ids_only() -> None:
    family, pet, file_id = uuid4(), uuid4(), uuid4()
    key, thumb = storage_keys(family, pet, file_id)
    assert key == f"families/{family}/pets/{pet}/{file_id}"
    assert thumb == key + ".thumb"
    assert check_storage_key(key) == key


def test_attachments_must_be_files_of_the_same_pet() -> None:
    from datetime import UTC, datetime

    from tailtracker_core.model.files import StoredFile

    pet, other_pet, user = uuid4(), uuid4(), uuid4()

    def stored(pet_id):
        fid = uuid4()
        return StoredFile(
            fid,
            uuid4(),
            pet_id,
            FileKind.DOCUMENT,
            MediaType.PDF,
            1,
            "0" * 64,
            "k",
            "a.pdf",
            user,
            datetime.now(UTC),
        )

    mine, theirs = stored(pet), stored(other_pet)
    require_files_of_pet([mine], [mine.id], pet, "file_ids")
    with pytest.raises(ValidationFailed) as wrong_pet:
        require_files_of_pet([mine, theirs], [mine.id, theirs.id], pet, "file_ids")
    assert wrong_pet.value.errors[0].field == "file_ids"
    with pytest.raises(ValidationFailed):
        require_files_of_pet([], [uuid4()], pet, "certificate_id")
