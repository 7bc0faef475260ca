"""Files over HTTP: uploads of every accepted type, the hostile set, serving (headers,
thumbnails, ETags), roles, quota, deletion (rows at once, blobs by the worker), and that
nothing is ever half stored."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from attrs import evolve
from litestar.testing import TestClient
from PIL import Image

from entrypoints.bootstrap import Container, build
from entrypoints.http.app import create_app
from tailtracker_core.model.files import FileRules
from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus
from tailtracker_core.model.tiers import Tier
from tests.fixtures import files as samples
from tests.fixtures.http import http_settings, roomy_limits, sign_up

from .problems import assert_problem

# --- helpers ----------------------------------------------------------------------------------


def _pet(account: Any, family_id: str | None = None) -> str:
    family_id = family_id or account.personal_family()
    response = account.post("/v1/pets", json={"family_id": family_id, "name": "Biscuit", "species": "dog"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _upload(
    account: Any, pet_id: str, data: bytes, name: str = "photo.jpg", what: str = "photos", **kw: Any
) -> Any:
    files = {"file": (name, data, kw.pop("content_type", "image/jpeg"))}
    return account.post(f"/v1/pets/{pet_id}/{what}", files=files, **kw)


def _blobs(container: Container) -> list[Path]:
    root = Path(container.settings.files_store_url.removeprefix("file://"))
    return sorted(p for p in root.rglob("*") if p.is_file())


def _run_worker(container: Container) -> None:
    """What the relay and the worker do, inline: publish the outbox to the event handlers."""
    messages = container.outbox.claim(1000)
    for message in messages:
        container.handlers.handle(message.topic, message.payload)
    container.outbox.mark_sent([m.id for m in messages], datetime.now(UTC))


def _join(owner: Any, invitee: Any, family_id: str, role: str) -> None:
    token = owner.post(
        f"/v1/families/{family_id}/invitations", json={"email": invitee.email, "role": role}
    ).json()["token"]
    assert invitee.post(f"/v1/invitations/{token}/accept").status_code == 200


def _premium(container: Container, account: Any) -> None:
    deps = container.deps
    with deps.uow(None) as uow:
        uow.subscriptions.add(
            Subscription(deps.ids.new_id(), account.id_uuid, Tier.PREMIUM, SubscriptionStatus.ACTIVE, None)
        )
        uow.commit()


# --- happy paths --------------------------------------------------------------------------------


def test_a_phone_photo_is_stored_without_gps_and_served_to_the_family(
    alice: Any, http_container: Container
) -> None:
    pet = _pet(alice)
    response = _upload(alice, pet, samples.jpeg_with_gps((640, 480)), name="IMG_0001.JPG")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["url"] == f"/v1/files/{body['id']}"
    assert response.headers["location"] == body["url"]
    assert (body["width"], body["height"]) == (480, 640)  # turned upright (EXIF orientation 6)
    assert body["content_type"] == "image/jpeg" and body["kind"] == "photo"
    assert body["original_name"] == "IMG_0001.jpg"
    assert body["thumbnail_url"] == body["url"] + "?variant=thumbnail"

    fetched = alice.get(body["url"])
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["x-content-type-options"] == "nosniff"
    assert fetched.headers["content-disposition"].startswith('inline; filename="IMG_0001.jpg"')
    assert "private" in fetched.headers["cache-control"]
    assert int(fetched.headers["content-length"]) == body["size_bytes"] == len(fetched.content)
    assert "content-encoding" not in fetched.headers
    thumb = alice.get(body["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    # Neither the stored copy nor the thumbnail, nor any blob on disk, carries the GPS tags.
    for data in (fetched.content, thumb.content, *(p.read_bytes() for p in _blobs(http_container))):
        image = Image.open(io.BytesIO(data))
        assert not image.getexif() and image.getexif().get_ifd(samples.GPS_IFD) == {}
        assert b"Exif" not in data[:200] and b"PhoneMaker" not in data and b"Example Street" not in data
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 512
    assert len(_blobs(http_container)) == 2
    names = {p.name for p in _blobs(http_container)}
    assert names == {body["id"], body["id"] + ".thumb"}  # generated names, not the client's


@pytest.mark.parametrize(
    ("make", "name", "stored_type"),
    [
        (samples.png, "a.png", "image/png"),
        (samples.webp, "b.webp", "image/webp"),
        (samples.heic, "c.heic", "image/jpeg"),
        (samples.jpeg, "d.jpeg", "image/jpeg"),
    ],
)
def test_every_image_type_can_be_a_photo(alice: Any, make: Any, name: str, stored_type: str) -> None:
    pet = _pet(alice)
    response = _upload(alice, pet, make(), name=name, content_type="application/octet-stream")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == stored_type
    fetched = alice.get(body["url"])
    assert fetched.headers["content-type"] == stored_type
    assert Image.open(io.BytesIO(fetched.content)).size == (body["width"], body["height"])


def test_a_vaccination_certificate_pdf_is_a_document_served_as_an_attachment(alice: Any) -> None:
    pet = _pet(alice)
    pdf = samples.pdf()
    response = _upload(alice, pet, pdf, name="Tollwut Impfung 2026.pdf", what="documents")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "application/pdf" and body["size_bytes"] == len(pdf)
    assert body["width"] is None and body["thumbnail_url"] is None and body["kind"] == "document"
    fetched = alice.get(body["url"])
    assert fetched.content == pdf  # a PDF is stored as sent
    assert fetched.headers["content-type"] == "application/pdf"
    disposition = fetched.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Tollwut Impfung 2026.pdf"')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "Tollwut Impfung 2026.pdf"
    assert_problem(alice.get(body["url"] + "?variant=thumbnail"), 404, "not_found")
    assert alice.get(f"/v1/pets/{pet}/documents").json()["items"][0]["id"] == body["id"]
    assert alice.get(f"/v1/pets/{pet}/photos").json()["items"] == []


def test_an_image_may_be_a_document_too(alice: Any) -> None:
    pet = _pet(alice)
    response = _upload(alice, pet, samples.png(), name="scan.png", what="documents")
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "document" and response.json()["thumbnail_url"]


def test_unicode_names_travel_in_filename_star(alice: Any) -> None:
    pet = _pet(alice)
    body = _upload(alice, pet, samples.jpeg(), name="Ünïcödé 🐶.jpg").json()
    disposition = alice.get(body["url"]).headers["content-disposition"]
    assert disposition.startswith('inline; filename="Unicode')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "Ünïcödé 🐶.jpg"


def test_photos_list_pages_with_cursor_and_fields(alice: Any) -> None:
    pet = _pet(alice)
    ids = [_upload(alice, pet, samples.jpeg((40 + i, 40))).json()["id"] for i in range(3)]
    first = alice.get(f"/v1/pets/{pet}/photos?limit=2").json()
    second = alice.get(f"/v1/pets/{pet}/photos?limit=2&cursor={first['next_cursor']}").json()
    assert [p["id"] for p in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None
    trimmed = alice.get(f"/v1/pets/{pet}/photos?fields=id,url").json()["items"][0]
    assert set(trimmed) == {"id", "url"}
    assert_problem(alice.get(f"/v1/pets/{pet}/photos?fields=nope"), 422, "validation_error", "fields")


def test_a_file_is_cached_by_its_digest(alice: Any) -> None:
    pet = _pet(alice)
    url = _upload(alice, pet, samples.jpeg()).json()["url"]
    first = alice.get(url)
    etag = first.headers["etag"]
    again = alice.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    thumb = alice.get(url + "?variant=thumbnail")
    assert thumb.headers["etag"] != etag
    assert_problem(alice.get(url + "?variant=poster"), 422, "validation_error")


# --- the hostile set --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (samples.html_named_jpg(), "cute.jpg", 415, "unsupported_file_type"),
        (b"GIF89a" + b"\x00" * 100, "anim.gif", 415, "unsupported_file_type"),
        (samples.pdf(), "cert.jpg", 415, "unsupported_file_type"),  # a PDF is no photo
        (samples.jpeg_with_script_comment(), "polyglot.jpg", 422, "invalid_file"),
        (samples.jpeg_with_zip_appended(), "polyglot.jpg", 422, "invalid_file"),
        (samples.pixel_bomb_png(), "bomb.png", 422, "invalid_file"),
        (samples.truncated(samples.jpeg()), "cut.jpg", 422, "invalid_file"),
        (samples.truncated(samples.png(), 0.7), "cut.png", 422, "invalid_file"),
        (b"", "empty.jpg", 422, "invalid_file"),
    ],
)
def test_hostile_photos_are_refused_and_nothing_is_stored(
    alice: Any, http_container: Container, data: bytes, name: str, status: int, code: str
) -> None:
    pet = _pet(alice)
    response = _upload(alice, pet, data, name=name)
    body = assert_problem(response, status, code)
    if status == 422:
        assert body["errors"][0]["field"] == "file"
    assert _blobs(http_container) == []
    assert alice.get(f"/v1/pets/{pet}/photos").json()["items"] == []


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (samples.pdf_with_javascript(), "invalid_file"),
        (samples.pdf_with_html(), "invalid_file"),
        (samples.truncated(samples.pdf(), 0.8), "invalid_file"),
        (samples.html_named_jpg(), "unsupported_file_type"),
    ],
)
def test_hostile_documents_are_refused(alice: Any, http_container: Container, data: bytes, code: str) -> None:
    pet = _pet(alice)
    assert_problem(
        _upload(alice, pet, data, name="x.pdf", what="documents"), 415 if "unsupported" in code else 422, code
    )
    assert _blobs(http_container) == []


def test_an_oversized_photo_is_413_before_it_is_read(tmp_path: Path) -> None:
    rules = FileRules(photo_max_bytes=50_000, document_max_bytes=60_000)
    core = evolve(roomy_limits(), files=rules)
    container = build(http_settings(tmp_path), core=core)
    try:
        with TestClient(create_app(container)) as client:
            account = sign_up(client)
            pet = _pet(account)
            big = samples.noisy_jpeg((250, 250))
            assert len(big) > 50_000
            assert_problem(_upload(account, pet, big), 413, "file_too_large")
            # beyond the largest kind's limit the body is cut off while it streams in
            huge = b"\xff\xd8\xff" + b"\x00" * 300_000
            assert_problem(_upload(account, pet, huge), 413, "payload_too_large")
            assert _blobs(container) == []
            # a document may be larger than a photo
            pdf = samples.pdf(text="x" * 52_000)
            assert 50_000 < len(pdf) < 60_000
            assert _upload(account, pet, pdf, what="documents").status_code == 201
    finally:
        container.close()


def test_uploads_must_be_multipart_with_a_file_part(alice: Any) -> None:
    pet = _pet(alice)
    assert_problem(
        alice.post(f"/v1/pets/{pet}/photos", json={"file": "aGVsbG8="}), 415, "unsupported_media_type"
    )
    refused = alice.post(f"/v1/pets/{pet}/photos", files={"other": ("a.jpg", samples.jpeg(), "image/jpeg")})
    assert refused.status_code in (400, 422), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    as_text = alice.post(f"/v1/pets/{pet}/photos", data={"file": "not a file"})
    assert as_text.status_code in (400, 415, 422), as_text.text


# --- roles and quota ----------------------------------------------------------------------------------


@pytest.fixture
def family(http_container: Container, new_account: Any) -> dict[str, Any]:
    owner, member, viewer, outsider = (new_account(n) for n in ("Owner", "Member", "Viewer", "Outsider"))
    _premium(http_container, owner)
    fam = owner.post("/v1/families", json={"name": "Files"}).json()["id"]
    _join(owner, member, fam, "member")
    _join(owner, viewer, fam, "viewer")
    pet = _pet(owner, fam)
    photo = _upload(owner, pet, samples.jpeg()).json()
    return {
        "owner": owner,
        "member": member,
        "viewer": viewer,
        "outsider": outsider,
        "pet": pet,
        "photo": photo,
    }


def test_roles_over_files(family: dict[str, Any], http_container: Container) -> None:
    pet, photo = family["pet"], family["photo"]
    for who in ("owner", "member", "viewer"):
        assert family[who].get(photo["url"]).status_code == 200, who
        assert family[who].get(f"/v1/pets/{pet}/photos").status_code == 200, who
    outsider = family["outsider"]
    assert_problem(outsider.get(photo["url"]), 404, "not_found")
    assert_problem(outsider.get(photo["url"] + "?variant=thumbnail"), 404, "not_found")
    assert_problem(outsider.get(f"/v1/pets/{pet}/photos"), 404, "not_found")
    assert_problem(_upload(outsider, pet, samples.jpeg()), 404, "not_found")
    assert_problem(outsider.delete(photo["url"]), 404, "not_found")
    viewer = family["viewer"]
    assert_problem(_upload(viewer, pet, samples.jpeg()), 403, "forbidden")
    assert_problem(_upload(viewer, pet, samples.pdf(), what="documents"), 403, "forbidden")
    assert_problem(viewer.delete(photo["url"]), 403, "forbidden")
    assert len(_blobs(http_container)) == 2  # the refused uploads wrote nothing
    member = family["member"]
    assert _upload(member, pet, samples.png()).status_code == 201
    assert member.delete(photo["url"]).status_code == 204
    assert_problem(family["owner"].get(photo["url"]), 404, "not_found")


def test_an_unknown_file_or_pet_is_404(alice: Any) -> None:
    assert_problem(alice.get("/v1/files/0190b6a4-0000-7000-8000-000000000000"), 404, "not_found")
    assert_problem(_upload(alice, "0190b6a4-0000-7000-8000-000000000000", samples.jpeg()), 404, "not_found")
    assert_problem(alice.get("/v1/files/not-a-uuid"), 422, "validation_error")


def test_the_tier_storage_quota_counts_copies_and_thumbnails(tmp_path: Path) -> None:
    base = roomy_limits()
    tiny = {t: evolve(limits, storage_bytes=60_000) for t, limits in base.tiers.limits.items()}
    core = evolve(base, tiers=type(base.tiers)(tiny))
    container = build(http_settings(tmp_path), core=core)
    try:
        with TestClient(create_app(container)) as client:
            account = sign_up(client)
            pet = _pet(account)
            first = _upload(account, pet, samples.jpeg((300, 300))).json()
            used = first["size_bytes"]
            assert used < 60_000
            uploads = 1
            while True:
                response = _upload(account, pet, samples.jpeg((300, 300 + uploads)))
                if response.status_code != 201:
                    break
                uploads += 1
                assert uploads < 50
            body = assert_problem(response, 403, "tier_limit_exceeded")
            assert "free tier" in body["detail"]
            blobs_before = _blobs(container)
            # the refused upload left nothing; deleting one file frees room again
            assert len(blobs_before) == 2 * uploads
            assert account.delete(first["url"]).status_code == 204
            _run_worker(container)
            assert len(_blobs(container)) == 2 * uploads - 2
            assert _upload(account, pet, samples.jpeg((300, 300))).status_code == 201
    finally:
        container.close()


# --- deletion and consistency ----------------------------------------------------------------------------


def test_deleting_a_file_deletes_its_blobs_through_the_worker(alice: Any, http_container: Container) -> None:
    pet = _pet(alice)
    photo = _upload(alice, pet, samples.jpeg()).json()
    keep = _upload(alice, pet, samples.pdf(), what="documents").json()
    assert len(_blobs(http_container)) == 3
    assert alice.delete(photo["url"]).status_code == 204
    assert_problem(alice.get(photo["url"]), 404, "not_found")  # the row is gone at once
    _run_worker(http_container)
    assert [p.name for p in _blobs(http_container)] == [keep["id"]]
    _run_worker(http_container)  # a redelivered event changes nothing
    assert alice.get(keep["url"]).status_code == 200


def test_deleting_a_pet_or_a_family_deletes_their_blobs(http_container: Container, new_account: Any) -> None:
    owner = new_account("Owner")
    _premium(http_container, owner)
    fam = owner.post("/v1/families", json={"name": "Doomed"}).json()["id"]
    pet_a, pet_b = _pet(owner, fam), _pet(owner, fam)
    elsewhere = _pet(owner)  # in the personal family
    a = _upload(owner, pet_a, samples.jpeg()).json()
    b = _upload(owner, pet_b, samples.pdf(), what="documents").json()
    kept = _upload(owner, elsewhere, samples.jpeg()).json()
    assert owner.delete(f"/v1/pets/{pet_a}").status_code == 204
    assert_problem(owner.get(a["url"]), 404, "not_found")
    _run_worker(http_container)
    assert {p.name for p in _blobs(http_container)} == {b["id"], kept["id"], kept["id"] + ".thumb"}
    assert owner.delete(f"/v1/families/{fam}").status_code == 204
    _run_worker(http_container)
    assert {p.name for p in _blobs(http_container)} == {kept["id"], kept["id"] + ".thumb"}
    assert owner.get(kept["url"]).status_code == 200


@pytest.mark.parametrize("fail_on", [1, 2])
def test_a_failed_blob_write_leaves_no_blob_and_no_row(
    alice: Any, http_container: Container, monkeypatch: pytest.MonkeyPatch, fail_on: int
) -> None:
    pet = _pet(alice)
    store = http_container.deps.blobs
    real_put = store.put
    puts = {"n": 0}

    def put(key: str, data: bytes, content_type: str) -> None:
        puts["n"] += 1
        if puts["n"] == fail_on:  # the stored copy, or the thumbnail after the copy was written
            raise OSError(28, "No space left on device")
        real_put(key, data, content_type)

    monkeypatch.setattr(store, "put", put)
    response = _upload(alice, pet, samples.jpeg())
    monkeypatch.undo()
    assert_problem(response, 500, "internal_error")
    assert _blobs(http_container) == []
    assert alice.get(f"/v1/pets/{pet}/photos").json()["items"] == []


def test_a_failed_commit_removes_the_written_blobs(
    alice: Any, http_container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.memory.uow import MemoryUnitOfWork

    pet = _pet(alice)

    def commit(self: Any) -> None:
        raise ConnectionError("the database went away at commit")

    monkeypatch.setattr(MemoryUnitOfWork, "commit", commit)
    response = _upload(alice, pet, samples.jpeg())
    monkeypatch.undo()
    assert_problem(response, 503, "service_unavailable")
    assert _blobs(http_container) == []
    assert alice.get(f"/v1/pets/{pet}/photos").json()["items"] == []


def test_an_idempotent_upload_replays_and_stores_once(alice: Any, http_container: Container) -> None:
    pet = _pet(alice)
    data = samples.jpeg()
    first = _upload(alice, pet, data, headers={"Idempotency-Key": "upload-1"})
    again = _upload(alice, pet, data, headers={"Idempotency-Key": "upload-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers.get("idempotent-replayed") == "true"
    assert len(_blobs(http_container)) == 2
    other = _upload(alice, pet, samples.png(), headers={"Idempotency-Key": "upload-1"})
    assert_problem(other, 409, "idempotency_key_reused")
    assert len(_blobs(http_container)) == 2


def test_a_family_sees_its_storage_use(family: dict[str, Any]) -> None:
    owner, viewer, outsider = family["owner"], family["viewer"], family["outsider"]
    fam = owner.get(f"/v1/pets/{family['pet']}").json()["family_id"]
    usage = viewer.get(f"/v1/families/{fam}/storage")
    assert usage.status_code == 200, usage.text
    body = usage.json()
    assert body["tier"] == "premium" and body["limit_bytes"] == 2048 * 1024 * 1024
    photo = family["photo"]
    thumb = owner.get(photo["thumbnail_url"]).content
    assert body["used_bytes"] == photo["size_bytes"] + len(thumb)
    assert_problem(outsider.get(f"/v1/families/{fam}/storage"), 404, "not_found")
    assert owner.delete(photo["url"]).status_code == 204
    assert owner.get(f"/v1/families/{fam}/storage").json()["used_bytes"] == 0
