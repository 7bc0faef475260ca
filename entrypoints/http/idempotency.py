"""`Idempotency-Key` on the POSTs that create: a retry gets the first answer, not a twin.

The answer is stored in the database, in the same transaction as the change it answers for,
so "created" and "remembered" cannot come apart: a crash after the commit leaves both, a crash
before it leaves neither. How: the use case runs with a unit-of-work factory whose `commit()`
is deferred; once it returns, the response is rendered, its record added to that same unit of
work, and only then is the transaction committed. Records are per user, keyed by method, path
and a SHA-256 of the client's key, and kept for 24 h (`IDEMPOTENCY_TTL`; `tailtracker purge` deletes
older ones). The body is compared by the SHA-256 of
its canonical encoding (the decoded request struct re-encoded), so whitespace and key order do
not matter. Only successes are stored: after a 4xx the client may fix the cause and retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import msgspec
from attrs import evolve
from litestar import Request, Response

from tailtracker_core.errors import Conflict
from tailtracker_core.ports import IdempotencyRecord, UnitOfWork, UnitOfWorkFactory
from tailtracker_core.usecases.deps import Deps
from tailtracker_core.usecases.housekeeping import IDEMPOTENCY_TTL as TTL

from .problems import ApiError

__all__ = ["fingerprint_of", "idempotent", "slot_of"]

_encode = msgspec.json.Encoder()
_REPLAYED_HEADERS = ("etag", "location")
_RACED = "a request with this Idempotency-Key was just answered; retry to get its answer"


def idempotent(
    deps: Deps,
    request: Request[Any, Any, Any],
    user_id: UUID,
    key: str | None,
    body: msgspec.Struct,
    produce: Callable[[Deps], Response[Any]],
) -> Response[Any]:
    if key is None:
        return produce(deps)
    if not key.isascii() or not key.isprintable():
        raise ApiError(422, "validation_error", "Idempotency-Key: printable ASCII only")
    slot = slot_of(request.method, request.url.path, key)
    fingerprint = fingerprint_of(body)
    now = deps.clock.now()
    with deps.uow(user_id) as uow:
        prior = uow.idempotency.get(user_id, slot)
    if prior is not None and prior.created_at > now - TTL:
        return _replay(prior, fingerprint)
    deferred = _DeferredCommit(deps.uow)
    try:
        response = produce(evolve(deps, uow=deferred.open))
        if 200 <= response.status_code < 300 and deferred.pending is not None:
            pending = deferred.pending
            pending.idempotency.purge(user_id, now - TTL)
            try:
                pending.idempotency.add(_record_of(response, user_id, slot, fingerprint, now))
            except Conflict:
                deferred.racing = True
                raise
        deferred.commit()
    except Conflict as exc:
        if deferred.racing:  # a twin request with this key committed first
            raise ApiError(
                409, "conflict", "a request with this Idempotency-Key was just answered; retry"
            ) from exc
        raise
    finally:
        deferred.close()
    return response


def slot_of(method: str, path: str, key: str) -> str:
    return f"{method} {path}:{hashlib.sha256(key.encode()).hexdigest()}"


def fingerprint_of(body: msgspec.Struct) -> str:
    return hashlib.sha256(_encode.encode(body)).hexdigest()


class _DeferredCommit:
    """Hands out units of work whose commit waits for the response to be recorded with it.

    A creating use case opens one unit of work and commits it once; that commit is held (the
    transaction stays open past the use case's `with` block) until `commit()` here.
    """

    def __init__(self, factory: UnitOfWorkFactory) -> None:
        self._factory = factory
        self.pending: UnitOfWork | None = None
        self.racing = False  # the key was recorded by a twin request that committed first

    def open(self, actor: UUID | None) -> UnitOfWork:
        if self.pending is not None:
            raise RuntimeError("an idempotent request may open only one unit of work after committing")
        return _HeldUnitOfWork(self, self._factory(actor))  # type: ignore[return-value]

    def commit(self) -> None:
        if self.pending is not None:
            self.pending.commit()

    def close(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.__exit__(None, None, None)


class _HeldUnitOfWork:
    """A unit of work whose `commit()` marks it for `_DeferredCommit.commit()` instead."""

    def __init__(self, owner: _DeferredCommit, inner: UnitOfWork) -> None:
        self._owner, self._inner, self._held = owner, inner, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def commit(self) -> None:
        self._held = True

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None and self._held:
            self._owner.pending = self._inner  # stays open: committed (or rolled back) later
            return
        self._inner.__exit__(exc_type, exc, tb)


def _record_of(
    response: Response[Any], user_id: UUID, slot: str, fingerprint: str, now: Any
) -> IdempotencyRecord:
    body = _encode.encode(response.content)
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() in _REPLAYED_HEADERS}
    return IdempotencyRecord(user_id, slot, fingerprint, response.status_code, body, json.dumps(headers), now)


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response[Any]:
    if record.fingerprint != fingerprint:
        raise ApiError(
            409, "idempotency_key_reused", "this Idempotency-Key was used with another body; use a new key"
        )
    headers = {**json.loads(record.headers), "Idempotent-Replayed": "true"}
    return Response(record.body, status_code=record.status, headers=headers, media_type="application/json")
