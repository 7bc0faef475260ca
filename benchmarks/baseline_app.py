"""The baseline: the same two reads with raw asyncpg and no framework, served by the same server.

    granian --interface asgi --factory benchmarks.baseline_app:create --workers N

Settings from the environment:
    BENCH_BASELINE_DSN    PostgreSQL URL (run.py passes the owner role's URL, see below)
    BENCH_BASELINE_POOL   connections per worker (default 20: the API's pool_size 10 + overflow 10)
    BENCH_BASELINE_MODE   "plain" (default) or "rls"

What a request does:
- parse the path (`/v1/pets/{id}` or `/v1/pets?family_id=`) and read the caller's user id from
  the bearer token's payload WITHOUT verifying its signature or asking Redis for the session
  (no framework extras: the baseline is deliberately cheaper than a secure server can be);
- "plain": one statement on a pooled connection as the owner role (row-level security does not
  apply), with the membership check written into the SQL, so a non-member gets 404 as in the
  API; "rls": as the app role under row-level security, in a transaction that first runs
  `set_config('tailtracker.user_id', ...)`, exactly what the API's unit of work sends;
- encode the row(s) with msgspec (the API's encoder too) and respond 200 with JSON.

The list returns up to 20 pets ordered by id and a `next_cursor`, like the API's first page.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

import asyncpg
import msgspec

__all__ = ["create"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_COLUMNS = (
    "p.id, p.family_id, p.name, p.species, p.breed, p.sex, p.birth_date, p.colors, p.size, p.weight_kg,"
    " p.microchip, p.neutered, p.notes, p.created_at, p.updated_at"
)
_MEMBER = "EXISTS (SELECT 1 FROM memberships m WHERE m.family_id = p.family_id AND m.user_id = $2)"
PLAIN_ONE = f"SELECT {_COLUMNS} FROM pets p WHERE p.id = $1 AND {_MEMBER}"
PLAIN_LIST = f"SELECT {_COLUMNS} FROM pets p WHERE p.family_id = $1 AND {_MEMBER} ORDER BY p.id LIMIT $3"
# Under row-level security the policy on pets does the membership check (as in the API).
RLS_ONE = f"SELECT {_COLUMNS} FROM pets p WHERE p.id = $1"
RLS_LIST = f"SELECT {_COLUMNS} FROM pets p WHERE p.family_id = $1 ORDER BY p.id LIMIT $2"
SET_ACTOR = "SELECT set_config('tailtracker.user_id', $1, true)"
PAGE = 20

_JSON = [(b"content-type", b"application/json")]
_encoder = msgspec.json.Encoder()
_claims = msgspec.json.Decoder(dict[str, Any])


def _user_of(scope: Scope) -> UUID | None:
    """The token's `sub`, read without any check (see the module docstring)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            try:
                payload = value.split(b" ", 1)[1].split(b".")[1]
                claims = _claims.decode(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
                return UUID(claims["sub"])
            except (IndexError, ValueError, KeyError, TypeError, msgspec.DecodeError):
                return None
    return None


def _uuid(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


def _row(r: asyncpg.Record) -> dict[str, Any]:
    return dict(r.items())


class Baseline:
    def __init__(self, dsn: str, pool_size: int, mode: str) -> None:
        if mode not in {"plain", "rls"}:
            raise ValueError(f"BENCH_BASELINE_MODE must be plain or rls, not {mode!r}")
        self.dsn, self.pool_size, self.mode = dsn, pool_size, mode
        self.pool: asyncpg.Pool | None = None

    async def _init(self, conn: asyncpg.Connection) -> None:
        # jsonb arrives as text; decode it so the colours are encoded as a JSON list.
        await conn.set_type_codec("jsonb", encoder=str, decoder=msgspec.json.decode, schema="pg_catalog")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        status, body = await self._handle(scope)
        await send({"type": "http.response.start", "status": status, "headers": _JSON})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.pool = await asyncpg.create_pool(
                    self.dsn, min_size=self.pool_size, max_size=self.pool_size, init=self._init
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(self, scope: Scope) -> tuple[int, bytes]:
        path: str = scope["path"]
        if scope["method"] != "GET" or not path.startswith("/v1/pets"):
            return 404, b'{"code":"not_found"}'
        user = _user_of(scope)
        if user is None:
            return 401, b'{"code":"unauthenticated"}'
        assert self.pool is not None
        if path.startswith("/v1/pets/"):
            pet_id = _uuid(path[len("/v1/pets/") :])
            if pet_id is None:
                return 404, b'{"code":"not_found"}'
            row = await self._one(pet_id, user)
            return (200, _encoder.encode(_row(row))) if row else (404, b'{"code":"not_found"}')
        query = parse_qs(scope["query_string"].decode("latin-1"))
        family_id = _uuid(query.get("family_id", [""])[0])
        if family_id is None:
            return 400, b'{"code":"validation_failed"}'
        rows = await self._list(family_id, user)
        page, more = rows[:PAGE], len(rows) > PAGE
        cursor = base64.urlsafe_b64encode(page[-1]["id"].bytes).rstrip(b"=").decode() if more else None
        return 200, _encoder.encode({"items": [_row(r) for r in page], "next_cursor": cursor})

    async def _one(self, pet_id: UUID, user: UUID) -> asyncpg.Record | None:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            if self.mode == "plain":
                return await conn.fetchrow(PLAIN_ONE, pet_id, user)
            async with conn.transaction():
                await conn.execute(SET_ACTOR, str(user))
                return await conn.fetchrow(RLS_ONE, pet_id)

    async def _list(self, family_id: UUID, user: UUID) -> list[asyncpg.Record]:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            if self.mode == "plain":
                return await conn.fetch(PLAIN_LIST, family_id, user, PAGE + 1)
            async with conn.transaction():
                await conn.execute(SET_ACTOR, str(user))
                return await conn.fetch(RLS_LIST, family_id, PAGE + 1)


def create() -> Baseline:
    """The ASGI app (granian --factory): nothing connects before the lifespan startup."""
    dsn = os.environ.get("BENCH_BASELINE_DSN", "")
    if not dsn:
        raise RuntimeError("set BENCH_BASELINE_DSN to the benchmark database's URL")
    return Baseline(
        dsn, int(os.environ.get("BENCH_BASELINE_POOL", "20")), os.environ.get("BENCH_BASELINE_MODE", "plain")
    )
