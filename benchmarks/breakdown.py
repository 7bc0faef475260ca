"""Where a read's time goes, one stage at a time, single-threaded and without a server.

    .venv/bin/python -m benchmarks.breakdown [--n 2000]

Builds the API's container exactly as the server does (same TAILTRACKER_* settings as run.py:
PostgreSQL as the app role under row-level security, Redis sessions), mints one session, and
times N calls of each stage of `GET /v1/pets/{id}` and `GET /v1/pets?family_id=`: CPU time
(of this process) and wall time per call. Next to them, the same database work with raw
psycopg (the five statements the unit of work sends), with raw asyncpg (what each baseline
sends: `plain`, `rls`, and `secure` with its token and session checks), and with async psycopg
in pipeline mode (the shape an async read side would take), to tell the drivers and round trips
apart from the layers above them.

Run `benchmarks.generate` first. Nothing here is part of the load figures.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from benchmarks.generate import DEFAULT_ADMIN_URL, DEFAULT_DATABASE, provision

__all__ = ["main"]


def _time(label: str, n: int, fn: Callable[[], Any], rows: list[tuple[str, float, float]]) -> None:
    for _ in range(min(200, n)):  # warm caches, prepared statements, pools
        fn()
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        fn()
    cpu, wall = (time.process_time() - c0) / n * 1e3, (time.perf_counter() - w0) / n * 1e3
    rows.append((label, cpu, wall))
    print(f"  {label:<62} cpu {cpu:7.3f} ms   wall {wall:7.3f} ms", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.breakdown",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--n", type=int, default=2000, help="calls per stage (default 2000)")
    p.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    p.add_argument("--database", default=DEFAULT_DATABASE)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    a = p.parse_args(argv)

    import asyncpg
    import msgspec
    import psycopg

    from adapters.security import generate_key
    from entrypoints.bootstrap import Settings, build
    from entrypoints.http.schemas.pets import PetOut
    from tailtracker_core.model.tiers import Tier
    from tailtracker_core.ports import SessionRecord
    from tailtracker_core.usecases import accounts, pets

    urls = provision(a.admin_url, a.database)
    settings = Settings(
        env="production",
        database_url=urls.app,
        cache_url=a.redis_url,
        broker_url="stub://",
        embedded_worker=False,
        rate_limits_enabled=False,
        jwt_keys=f"bench:{generate_key()}",
        var_dir="./var/bench-breakdown",
        email_url="file://./var/bench-breakdown/outbox",
    )
    container = build(settings)
    deps = container.deps
    with psycopg.connect(urls.owner) as conn:
        row = conn.execute(
            "SELECT m.user_id, p.id, p.family_id FROM pets p JOIN memberships m USING (family_id)"
            " ORDER BY p.id OFFSET 1000 LIMIT 1"
        ).fetchone()
    assert row is not None
    user_id, pet_id, family_id = row
    session_id = uuid4()
    now = datetime.now(UTC)
    deps.sessions.create(SessionRecord(session_id, user_id, uuid4(), now), 3600)
    token = deps.signer.issue_access(user_id, session_id, Tier.FREE, now)
    pet = pets.get_pet(deps, user_id, pet_id)
    page = pets.list_pets(deps, user_id, family_id, None, None, 21)
    encoder = msgspec.json.Encoder()
    n = a.n
    rows: list[tuple[str, float, float]] = []
    print(f"per call, over {n} calls, single thread (user {user_id}, pet {pet_id}):")
    _time("JwtSigner.decode_access", n, lambda: deps.signer.decode_access(token), rows)
    _time("RedisSessionStore.get (one Redis round trip)", n, lambda: deps.sessions.get(session_id), rows)
    _time("accounts.authenticate (the two above)", n, lambda: accounts.authenticate(deps, token), rows)
    _time(
        "pets.get_pet (unit of work: SQLAlchemy + psycopg, RLS)",
        n,
        lambda: pets.get_pet(deps, user_id, pet_id),
        rows,
    )
    _time(
        "pets.list_pets (family, 21 rows)",
        n,
        lambda: pets.list_pets(deps, user_id, family_id, None, None, 21),
        rows,
    )
    _time("PetOut.from_pet + msgspec encode (one pet)", n, lambda: encoder.encode(PetOut.from_pet(pet)), rows)
    _time(
        "PetOut.from_pet + msgspec encode (20 pets)",
        n,
        lambda: encoder.encode({"items": [PetOut.from_pet(x) for x in page[:20]], "next_cursor": None}),
        rows,
    )

    # the same statements with raw psycopg, as the app role, no SQLAlchemy
    raw = psycopg.connect(urls.app, prepare_threshold=5)

    def psycopg_get() -> None:
        with raw.transaction():
            raw.execute("SELECT set_config('tailtracker.user_id', %s, true)", (str(user_id),))
            raw.execute("SELECT * FROM pets WHERE id = %s", (pet_id,)).fetchone()
            raw.execute(
                "SELECT role FROM memberships WHERE family_id = %s AND user_id = %s", (family_id, user_id)
            ).fetchone()
            raise psycopg.Rollback

    _time("raw psycopg: BEGIN, set_config, pet, role, ROLLBACK (RLS)", n, psycopg_get, rows)
    raw.close()

    async def asyncpg_stages() -> None:
        import redis.asyncio

        from benchmarks.baseline_app import BEGIN_AS, PLAIN_ONE, RLS_ONE, SET_ACTOR, Verifier

        conn = await asyncpg.connect(urls.owner)
        app_conn = await asyncpg.connect(urls.app)
        loop_rows: list[tuple[str, float, float]] = []

        async def timed(label: str, fn: Callable[[], Any]) -> None:
            for _ in range(min(200, n)):
                await fn()
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(n):
                await fn()
            cpu, wall = (time.process_time() - c0) / n * 1e3, (time.perf_counter() - w0) / n * 1e3
            loop_rows.append((label, cpu, wall))
            print(f"  {label:<62} cpu {cpu:7.3f} ms   wall {wall:7.3f} ms", flush=True)

        await timed(
            "raw asyncpg: one query (the baseline, plain)", lambda: conn.fetchrow(PLAIN_ONE, pet_id, user_id)
        )

        async def rls() -> None:
            async with app_conn.transaction():
                await app_conn.execute(SET_ACTOR, str(user_id))
                await app_conn.fetchrow(RLS_ONE, pet_id)

        await timed("raw asyncpg: BEGIN, set_config, pet, COMMIT (baseline, rls)", rls)

        async def secure_db() -> None:
            await app_conn.execute(BEGIN_AS.format(user_id))
            await app_conn.fetchrow(RLS_ONE, pet_id)
            await app_conn.execute("COMMIT")

        await timed("raw asyncpg: BEGIN+set_config, pet, COMMIT (baseline, secure)", secure_db)
        verifier = Verifier(settings.jwt_keys, a.redis_url)
        scope = {"headers": [(b"authorization", f"Bearer {token}".encode())]}
        await timed(
            "PyJWT + redis.asyncio HGET (baseline, secure: the checks)", lambda: verifier.user_of(scope)
        )
        assert await verifier.user_of(scope) == user_id

        async def secure() -> None:
            await verifier.user_of(scope)
            await secure_db()

        await timed("the two above: a whole secure baseline read", secure)
        await verifier.redis.aclose()
        await conn.close()
        await app_conn.close()

        # Async psycopg, pipeline mode: what an async read side of the API would send.
        pg = await psycopg.AsyncConnection.connect(urls.app, autocommit=True)
        one = (
            "SELECT p.*, (SELECT m.role FROM memberships m WHERE m.family_id = p.family_id"
            " AND m.user_id = %s) AS actor_role FROM pets p WHERE p.id = %s"
        )
        set_actor = "SELECT set_config('tailtracker.user_id', %s, true)"

        async def psycopg_one() -> None:
            cur = await pg.execute(one, (user_id, pet_id))
            await cur.fetchone()

        async def psycopg_pipeline() -> None:
            async with pg.pipeline():
                await pg.execute("BEGIN")
                await pg.execute(set_actor, (str(user_id),))
                cur = await pg.execute(one, (user_id, pet_id))
                await pg.execute("COMMIT")
            assert await cur.fetchone() is not None

        await timed("async psycopg: one query, no transaction (no RLS actor)", psycopg_one)
        await timed("async psycopg pipeline: BEGIN, set_config, pet+role, COMMIT", psycopg_pipeline)
        client = redis.asyncio.Redis.from_url(a.redis_url)
        await timed(
            "redis.asyncio HMGET (the session, as RedisSessionStore.get)",
            lambda: client.hmget(f"tt:sess:s:{session_id}", ["user", "token", "created"]),
        )
        await client.aclose()
        await pg.close()
        rows.extend(loop_rows)

    asyncio.run(asyncpg_stages())
    container.close()
    print("\n| Stage (single thread, no server) | CPU ms per call | wall ms per call |\n|---|---:|---:|")
    for label, cpu, wall in rows:
        print(f"| {label} | {cpu:.3f} | {wall:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
