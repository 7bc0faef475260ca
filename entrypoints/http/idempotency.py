"""`Idempotency-Key` on the POSTs that create: a retry gets the first answer, not a twin.

Records live in the cache port for 24 h under `idem:{user}:{method} {path}:{sha256(key)}`.
A request first claims the key with `add` (a short-lived "pending" record, so a crash frees
the key soon), runs, and then `set`s the response it gave. The body is compared by the
SHA-256 of its canonical encoding (the decoded request struct re-encoded), so whitespace and
key order do not matter. Only successes are stored: after a 4xx the client may fix the cause
(e.g. upgrade past a tier limit) and retry with the same key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response

from tailtracker_core.ports import Cache

from .problems import ApiError

__all__ = ["fingerprint_of", "idempotent", "pending_record", "slot_of"]


TTL_SECONDS = 24 * 3600
PENDING_TTL_SECONDS = 60


class _Record(msgspec.Struct):
    fingerprint: str
    status: int = 0  # 0 while the first request is still running
    body: bytes = b""
    headers: dict[str, str] = {}


_encode = msgspec.json.Encoder()
_record = msgspec.json.Decoder(_Record)
_REPLAYED_HEADERS = ("etag", "location")


def idempotent(
    cache: Cache,
    request: Request[Any, Any, Any],
    user: str,
    key: str | None,
    body: msgspec.Struct,
    produce: Callable[[], Response[Any]],
) -> Response[Any]:
    if key is None:
        return produce()
    if not key.isascii() or not key.isprintable():
        raise ApiError(422, "validation_error", "Idempotency-Key: printable ASCII only")
    slot = slot_of(user, request.method, request.url.path, key)
    fingerprint = fingerprint_of(body)
    if not cache.add(slot, pending_record(fingerprint), PENDING_TTL_SECONDS):
        return _replay(cache.get(slot), fingerprint)
    try:
        response = produce()
    except BaseException:
        cache.delete(slot)
        raise
    if 200 <= response.status_code < 300:
        cache.set(slot, _encode.encode(_record_of(response, fingerprint)), TTL_SECONDS)
    else:
        cache.delete(slot)
    return response


def slot_of(user: str, method: str, path: str, key: str) -> str:
    return f"idem:{user}:{method} {path}:{hashlib.sha256(key.encode()).hexdigest()}"


def fingerprint_of(body: msgspec.Struct) -> str:
    return hashlib.sha256(_encode.encode(body)).hexdigest()


def pending_record(fingerprint: str) -> bytes:
    return _encode.encode(_Record(fingerprint))


def _record_of(response: Response[Any], fingerprint: str) -> _Record:
    body = _encode.encode(response.content)
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() in _REPLAYED_HEADERS}
    return _Record(fingerprint, response.status_code, body, headers)


def _replay(raw: bytes | None, fingerprint: str) -> Response[Any]:
    if raw is None:  # the first attempt just failed and freed the key: treat as in progress
        raise ApiError(409, "conflict", "a request with this Idempotency-Key is in progress; retry shortly")
    record = _record.decode(raw)
    if record.fingerprint != fingerprint:
        raise ApiError(
            409, "idempotency_key_reused", "this Idempotency-Key was used with another body; use a new key"
        )
    if record.status == 0:
        raise ApiError(409, "conflict", "a request with this Idempotency-Key is in progress; retry shortly")
    headers = {**record.headers, "Idempotent-Replayed": "true"}
    return Response(record.body, status_code=record.status, headers=headers, media_type="application/json")
