"""The baseline: the same two reads with raw asyncpg and no framework, served by the same server.

    granian --interface asgi --factory benchmarks.baseline_app:create --workers N

Settings from the environment:
    BENCH_BASELINE_DSN        PostgreSQL URL (run.py: the owner role for plain, the app role otherwise)
    BENCH_BASELINE_POOL       connections per worker (default 20: the API's pool_size 10 + overflow 10)
    BENCH_BASELINE_MODE       "plain" (default), "rls", "secure" or "litestar"
    BENCH_BASELINE_JWT_KEYS   secure only: the API's signing keys, "kid:secret,..." (TAILTRACKER_JWT_KEYS)
    BENCH_BASELINE_REDIS_URL  secure only: the Redis holding the sessions (TAILTRACKER_CACHE_URL)

What a request does:
- parse the path (`/v1/pets/{id}` or `/v1/pets?family_id=`);
- "plain" and "rls" read the caller's user id from the bearer token's payload WITHOUT verifying
  its signature or asking Redis for the session: they serve anyone who forges a token, and are
  kept to show what the database work alone costs;
- "plain": one statement on a pooled connection as the owner role (row-level security does not
  apply), with the membership check written into the SQL, so a non-member gets 404 as in the
  API; "rls": as the app role under row-level security, in a transaction that first runs
  `set_config('tailtracker.user_id', ...)` (BEGIN, set_config, SELECT, COMMIT: 4 round trips);
- "secure" does the security work every correct server must do, and nothing more:
  verifies the token with PyJWT as the API does (the key named by its `kid`, HS256 only,
  `iss`, `aud`, `exp`, `nbf`, `iat`, `sub`, `sid`, `typ` required, `typ` = access), checks the
  session is open in Redis with `redis.asyncio` (the same key as `adapters/redis/sessions.py`,
  and its user must be the token's `sub`), then reads as the app role under row-level security:
  BEGIN and `set_config('tailtracker.user_id', ..., true)` in one round trip (a simple-protocol
  query; the id is a parsed UUID, so the literal is safe), the SELECT, then COMMIT. That is the
  fewest round trips asyncpg allows here: it has no pipeline mode for statements that return
  rows. Row-level security does the membership check, so a non-member gets 404 for a pet
  (and an empty page for a family: the API answers 404 there, which costs it one more lookup);
- encode the row(s) with msgspec (the API's encoder too) and respond 200 with JSON.

The list returns up to 20 pets ordered by id and a `next_cursor`, like the API's first page.

"litestar" (issue 4's reference, `benchmarks.geo_run http`) is something else: a bare Litestar
app with one `async` handler, `GET /v1/lost-reports?lat=&lon=&radius_km=`, which parses and
type-checks the three query parameters as Litestar does and answers a constant page
(`{"items": [], "next_cursor": null}`) as JSON. No middleware, no database, no sign-in: what
the framework alone costs per request on this server.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

import asyncpg
import jwt
import msgspec
import redis.asyncio

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
BEGIN_AS = "BEGIN; SELECT set_config('tailtracker.user_id', '{}', true)"  # secure: one round trip
PAGE = 20
MODES = ("plain", "rls", "secure")

# The API's token rules (adapters/security/tokens.py): HS256 only, these claims required.
_ALGORITHMS = ["HS256"]
_REQUIRED = ["iss", "aud", "exp", "nbf", "iat", "sub", "sid", "typ"]
_ISSUER, _AUDIENCE = "tailtracker", "tailtracker-api"
_SESSION_KEY = "tt:sess:s:{}"  # adapters/redis/sessions.py, default prefix

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


class Verifier:
    """Token and session checks of the "secure" mode: what `accounts.authenticate` does."""

    def __init__(self, jwt_keys: str, redis_url: str) -> None:
        self.keys = {}
        for pair in jwt_keys.split(","):
            kid, _, secret = pair.strip().partition(":")
            self.keys[kid] = secret.encode()
        self.decoder = jwt.PyJWT({"require": _REQUIRED})
        self.redis = redis.asyncio.Redis.from_url(redis_url, decode_responses=False)

    async def user_of(self, scope: Scope) -> UUID | None:
        token = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                token = token.strip() if scheme.lower() == "bearer" else None
                break
        if not token or len(token) > 4096:
            return None
        try:
            key = self.keys.get(jwt.get_unverified_header(token).get("kid"))
            if key is None:
                return None
            claims = self.decoder.decode(
                token, key, algorithms=_ALGORITHMS, audience=_AUDIENCE, issuer=_ISSUER
            )
            if claims["typ"] != "access":
                return None
            user, session = UUID(claims["sub"]), UUID(claims["sid"])
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            return None
        owner = await self.redis.hget(_SESSION_KEY.format(session), "user")
        return user if owner is not None and owner.decode() == str(user) else None


def _uuid(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


def _row(r: asyncpg.Record) -> dict[str, Any]:
    return dict(r.items())


class Baseline:
    def __init__(self, dsn: str, pool_size: int, mode: str, verifier: Verifier | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"BENCH_BASELINE_MODE must be one of {', '.join(MODES)}, not {mode!r}")
        if (mode == "secure") != (verifier is not None):
            raise ValueError("the secure mode, and only it, verifies tokens and sessions")
        self.dsn, self.pool_size, self.mode, self.verifier = dsn, pool_size, mode, verifier
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
                if self.verifier is not None:
                    await self.verifier.redis.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(self, scope: Scope) -> tuple[int, bytes]:
        path: str = scope["path"]
        if scope["method"] != "GET" or not path.startswith("/v1/pets"):
            return 404, b'{"code":"not_found"}'
        user = await self.verifier.user_of(scope) if self.verifier else _user_of(scope)
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
            if self.mode == "secure":
                await conn.execute(BEGIN_AS.format(user))
                try:
                    return await conn.fetchrow(RLS_ONE, pet_id)
                finally:
                    await conn.execute("COMMIT")
            async with conn.transaction():
                await conn.execute(SET_ACTOR, str(user))
                return await conn.fetchrow(RLS_ONE, pet_id)

    async def _list(self, family_id: UUID, user: UUID) -> list[asyncpg.Record]:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            if self.mode == "plain":
                return await conn.fetch(PLAIN_LIST, family_id, user, PAGE + 1)
            if self.mode == "secure":
                await conn.execute(BEGIN_AS.format(user))
                try:
                    return await conn.fetch(RLS_LIST, family_id, PAGE + 1)
                finally:
                    await conn.execute("COMMIT")
            async with conn.transaction():
                await conn.execute(SET_ACTOR, str(user))
                return await conn.fetch(RLS_LIST, family_id, PAGE + 1)


def bare_litestar() -> Any:
    """The "litestar" mode: one JSON endpoint, nothing else (see the module docstring)."""
    from litestar import Litestar, get

    @get("/v1/lost-reports")
    async def search(lat: float, lon: float, radius_km: float = 5.0) -> dict[str, Any]:
        return {"items": [], "next_cursor": None}

    return Litestar([search], openapi_config=None)


def create() -> Any:
    """The ASGI app (granian --factory): nothing connects before the lifespan startup."""
    if os.environ.get("BENCH_BASELINE_MODE") == "litestar":
        return bare_litestar()
    dsn = os.environ.get("BENCH_BASELINE_DSN", "")
    if not dsn:
        raise RuntimeError("set BENCH_BASELINE_DSN to the benchmark database's URL")
    mode = os.environ.get("BENCH_BASELINE_MODE", "plain")
    verifier = None
    if mode == "secure":
        keys = os.environ.get("BENCH_BASELINE_JWT_KEYS", "")
        url = os.environ.get("BENCH_BASELINE_REDIS_URL", "")
        if not keys or not url:
            raise RuntimeError("the secure mode needs BENCH_BASELINE_JWT_KEYS and BENCH_BASELINE_REDIS_URL")
        verifier = Verifier(keys, url)  # connects lazily, on the worker's event loop
    return Baseline(dsn, int(os.environ.get("BENCH_BASELINE_POOL", "20")), mode, verifier)
