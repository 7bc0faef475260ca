"""The read side of pets (CQRS-style): `PetReader` adapters for the hot read endpoints.

- `AsyncpgPetReader` (PostgreSQL): asyncpg, as the app role, under row-level security. Each
  read is one transaction: `BEGIN` and `set_config('tailtracker.user_id', ..., true)` in one
  round trip, one statement (the pet with the caller's role from a scalar subquery; or the
  caller's role LEFT JOIN LATERAL the page), then `COMMIT`. RLS stays the safety net: a
  non-member gets no row even if the policy check in the core were skipped.
- `ThreadedPetReader` (SQLite, and a generic fallback): the unit of work's sync repositories
  in a worker thread (`asyncio.to_thread`).

Commands keep the sync unit of work (psycopg); asyncpg is only here (docs/decisions.md D17).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, Sex, Size, Species
from tailtracker_core.model.roles import Role
from tailtracker_core.ports import PetReader, UnitOfWork
from tailtracker_core.usecases.pet_queries import family_pets_in, pet_with_role_in

__all__ = [
    "AsyncpgPetReader",
    "ThreadedPetReader",
    "asyncpg_dsn",
    "pet_from_record",
    "pet_reader_for",
    "plain_uuid",
]

_COLUMNS = (
    "p.id, p.family_id, p.name, p.species, p.sex, p.created_at, p.updated_at, p.breed, p.birth_date,"
    " p.colors, p.size, p.weight_kg, p.microchip, p.neutered, p.notes, p.version"
)
# The caller's role in the pet's family rides along: no second round trip for the policy.
PET_WITH_ROLE = (
    f"SELECT {_COLUMNS}, (SELECT m.role FROM memberships m"  # noqa: S608 (constants only)
    " WHERE m.family_id = p.family_id AND m.user_id = $2) AS role"
    " FROM pets p WHERE p.id = $1"
)


def _page_filters(species: bool, after: bool, first: int) -> tuple[str, int]:
    sql, n = "", first
    if species:
        sql += f" AND p.species = ${n}"
        n += 1
    if after:
        sql += f" AND p.id > ${n}"
        n += 1
    return sql, n


def _family_page(species: bool, after: bool) -> str:
    """The caller's role in family $1 (no row at all for an outsider), LEFT JOIN LATERAL the
    page: a member of a family without pets gets one row with the role and NULL pet columns."""
    filters, n = _page_filters(species, after, 3)
    return (
        f"SELECT r.role, {_COLUMNS} FROM"  # noqa: S608 (constants and $n placeholders only)
        " (SELECT m.role FROM memberships m WHERE m.family_id = $1 AND m.user_id = $2) r"
        f" LEFT JOIN LATERAL (SELECT * FROM pets p WHERE p.family_id = $1{filters}"
        f" ORDER BY p.id LIMIT ${n}) p ON true ORDER BY p.id"
    )


def _all_families_page(species: bool, after: bool) -> str:
    filters, n = _page_filters(species, after, 2)
    return (
        f"SELECT {_COLUMNS} FROM pets p"  # noqa: S608 (constants and $n placeholders only)
        " WHERE p.family_id IN (SELECT m.family_id FROM memberships m WHERE m.user_id = $1)"
        f"{filters} ORDER BY p.id LIMIT ${n}"
    )


_FAMILY_PAGE = {(s, a): _family_page(s, a) for s in (False, True) for a in (False, True)}
_ALL_PAGE = {(s, a): _all_families_page(s, a) for s in (False, True) for a in (False, True)}
# One round trip: a simple-protocol query cannot take parameters, so the actor goes in as a
# literal; it is `str(UUID)` (hex digits and dashes), never caller text.
_BEGIN_AS = "BEGIN READ ONLY; SELECT set_config('tailtracker.user_id', '{}', true)"


_SPECIES = {s.value: s for s in Species}
_SEXES = {s.value: s for s in Sex}
_SIZES = {s.value: s for s in Size}


def plain_uuid(value: Any) -> UUID:
    """A plain `uuid.UUID` from asyncpg's UUID (a subclass of its own)."""
    return UUID(bytes=value.bytes)


def pet_from_record(r: Any) -> Pet:
    """A Pet from an asyncpg record of `_COLUMNS`, by the rules of `mapping.pet_from` (a test
    checks that both agree): written out because a page maps up to 101 rows per request.
    Ids become plain `uuid.UUID` (asyncpg returns a subclass of its own)."""
    size, chip = r["size"], r["microchip"]
    return Pet(
        id=plain_uuid(r["id"]),
        family_id=plain_uuid(r["family_id"]),
        name=r["name"],
        species=_SPECIES[r["species"]],
        sex=_SEXES[r["sex"]],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        breed=r["breed"],
        birth_date=r["birth_date"],
        colors=list(r["colors"]),
        size=_SIZES[size] if size is not None else None,
        weight_kg=r["weight_kg"],
        microchip=Microchip(chip) if chip is not None else None,
        neutered=r["neutered"],
        notes=r["notes"],
        version=r["version"],
    )


def asyncpg_dsn(url: str) -> str:
    """`postgresql+psycopg://…` or `postgres://…` as the `postgresql://…` asyncpg takes."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


async def _init_connection(conn: Any) -> None:
    # jsonb arrives as text by default: decode the colour lists here, once, in C.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _reset(conn: Any) -> None:
    """Instead of asyncpg's default reset (advisory unlocks, CLOSE ALL, UNLISTEN, RESET ALL: one
    more round trip per read): this reader sets nothing at session level, holds no locks,
    cursors or listeners, so a connection only needs a transaction left open rolled back."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class AsyncpgPetReader:
    """Implements PetReader on PostgreSQL with asyncpg, as the app role (RLS applies).

    The pool is made lazily, on first use, in the running event loop: granian forks its
    workers after the app factory ran, and an asyncpg pool belongs to one loop. Should the
    loop change (a test client that makes one per request), a new pool is made for it.
    """

    def __init__(self, url: str, *, max_size: int = 20, min_size: int = 1) -> None:
        self._dsn = asyncpg_dsn(url)
        self._min, self._max = min(min_size, max_size), max_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: asyncio.Future[Any] | None = None

    async def _get_pool(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:
            self._abandon()
            self._loop = loop
            self._pool = loop.create_task(self._connect())
        try:
            return await asyncio.shield(self._pool)
        except BaseException:
            if self._pool.done() and self._pool.exception() is not None:
                self._pool = None  # the next read tries again (the database was down)
            raise

    async def pool(self) -> Any:
        """The asyncpg pool (made on first use): the nearby reader reads through it too
        (adapters/sql/lost_reads.py), so a process keeps one read pool."""
        return await self._get_pool()

    async def _connect(self) -> Any:
        import asyncpg  # type: ignore[import-untyped]

        return await asyncpg.create_pool(
            self._dsn, min_size=self._min, max_size=self._max, init=_init_connection, reset=_reset
        )

    def _abandon(self) -> None:
        """Drop a pool of another (finished) loop without awaiting on it."""
        old, self._pool = self._pool, None
        if old is not None and old.done() and not old.cancelled() and old.exception() is None:
            with contextlib.suppress(Exception):  # its loop is gone: the sockets go with it
                old.result().terminate()

    async def _one(self, actor: UUID, sql: str, *args: Any) -> Any:
        pool = await self._get_pool()
        async with pool.acquire() as conn:
            await conn.execute(_BEGIN_AS.format(UUID(str(actor))))
            try:
                rows = await conn.fetch(sql, *args)
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")
            return rows

    async def fetch_as(self, actor: UUID, sql: str, *args: Any) -> Any:
        """The rows of one statement in a read-only transaction as `actor`, on this pool: for
        the other read-side adapters (`care_reads`), so a process keeps one asyncpg pool."""
        return await self._one(actor, sql, *args)

    async def pet_with_role(self, actor: UUID, pet_id: UUID) -> tuple[Pet, Role | None] | None:
        rows = await self._one(actor, PET_WITH_ROLE, pet_id, actor)
        if not rows:
            return None
        r = rows[0]
        return pet_from_record(r), Role(r["role"]) if r["role"] is not None else None

    async def family_pets(
        self, actor: UUID, family_id: UUID | None, species: Species | None, after: UUID | None, limit: int
    ) -> tuple[Role | None, list[Pet]]:
        filters: list[Any] = []
        if species is not None:
            filters.append(species.value)
        if after is not None:
            filters.append(after)
        key = (species is not None, after is not None)
        if family_id is None:
            rows = await self._one(actor, _ALL_PAGE[key], actor, *filters, limit)
            return None, [pet_from_record(r) for r in rows]
        rows = await self._one(actor, _FAMILY_PAGE[key], family_id, actor, *filters, limit)
        if not rows:
            return None, []
        role = Role(rows[0]["role"])
        return role, [pet_from_record(r) for r in rows if r["id"] is not None]

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if self._loop is asyncio.get_running_loop():
            with contextlib.suppress(Exception):  # it never connected
                await (await pool).close()
        else:
            self._pool = pool
            self._abandon()


class ThreadedPetReader:
    """Implements PetReader over a sync UnitOfWorkFactory, each read in a worker thread.

    For SQLite (whose driver is sync) and any database without an async reader.
    """

    def __init__(self, uow_factory: Callable[[UUID | None], UnitOfWork]) -> None:
        self._uow = uow_factory

    def _pet_with_role(self, actor: UUID, pet_id: UUID) -> tuple[Pet, Role | None] | None:
        with self._uow(actor) as uow:
            return pet_with_role_in(uow, actor, pet_id)

    def _family_pets(
        self, actor: UUID, family_id: UUID | None, species: Species | None, after: UUID | None, limit: int
    ) -> tuple[Role | None, list[Pet]]:
        with self._uow(actor) as uow:
            return family_pets_in(uow, actor, family_id, species, after, limit)

    async def pet_with_role(self, actor: UUID, pet_id: UUID) -> tuple[Pet, Role | None] | None:
        return await asyncio.to_thread(self._pet_with_role, actor, pet_id)

    async def family_pets(
        self, actor: UUID, family_id: UUID | None, species: Species | None, after: UUID | None, limit: int
    ) -> tuple[Role | None, list[Pet]]:
        return await asyncio.to_thread(self._family_pets, actor, family_id, species, after, limit)

    async def close(self) -> None:
        return None  # the Database owns the engine and disposes of it


def pet_reader_for(url: str, database: Any, *, max_size: int = 20) -> PetReader:
    """asyncpg for postgresql:// (and postgres://), the threaded reader otherwise."""
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme in {"postgresql", "postgres"}:
        return AsyncpgPetReader(url, max_size=max_size)
    return ThreadedPetReader(database.uow_factory)
