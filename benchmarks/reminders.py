"""Care and reminder benchmarks (issue 3). Figures and analysis: docs/performance.md, "Care
schedules and reminders".

    make bench-reminders                          # = .venv/bin/python -m benchmarks.reminders
    .venv/bin/python -m benchmarks.reminders --part expand      # (a) only: pure core, no services
    .venv/bin/python -m benchmarks.reminders --part pass        # (b) only: PostgreSQL
    .venv/bin/python -m benchmarks.reminders --part tasks       # (c) only: PostgreSQL, Redis, wrk

(a) expand: a year of occurrences for 10,000 schedules (a realistic mix of rules and zones),
    with the pure core; wall time, and peak memory (tracemalloc) keeping nothing / everything.
(b) pass: 1,000,000 care schedules in PostgreSQL (generated with INSERT ... SELECT over
    generate_series, on the read benchmark's data set: 150k users, 90k families, 300k pets, in
    a database of its own), then ONE scheduler pass (`usecases.reminders.run_pass`, app role,
    row-level security on) at a "now" where the next minute holds ~550 due schedules; the
    claim query's EXPLAIN (ANALYZE, BUFFERS). Repeated --repeat times (the cursors are put
    back between passes).
(c) tasks: `GET /v1/pets/{pet_id}/care-tasks` for a month (limit=500: the whole month in one
    page) under wrk (64 connections, like the read benchmark, then 8), against the same
    database; in the same server and run, the pet read `GET /v1/pets/{id}` for the same
    callers and pets, for comparison. Then the parts of one request timed in-process (read,
    expansion, encoding); with --profile, py-spy on the worker (not part of the figures).

Raw output under benchmarks/results/reminders-<timestamp>/ (git ignores it). Not run by tests.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DATABASE = "tailtracker_bench_care"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # the pass runs "at" this instant
ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Tokyo")


# --- (a) expansion --------------------------------------------------------------------------

RULES = [  # (rule, weight): what pet owners schedule
    ("FREQ=DAILY", 30),
    ("FREQ=DAILY;BYHOUR=8,18;BYMINUTE=0", 25),
    ("FREQ=DAILY;BYHOUR=7,13,19;BYMINUTE=30", 10),
    ("FREQ=DAILY;INTERVAL=2", 5),
    ("FREQ=WEEKLY;BYDAY=MO,TH", 10),
    ("FREQ=WEEKLY", 5),
    ("FREQ=MONTHLY;BYMONTHDAY=1", 10),
    ("FREQ=MONTHLY;BYDAY=1SA", 5),
]
ALL_ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "UTC",
    "Europe/Berlin",
)


def _schedules(n: int, seed: int = 7) -> list[Any]:
    from tailtracker_core.model.care import CareKind, CareSchedule

    rng = random.Random(seed)
    rules = [r for r, w in RULES for _ in range(w)]
    out = []
    for _ in range(n):
        start = datetime(2026, 1, 1, rng.randrange(24), rng.choice((0, 15, 30, 45))) + timedelta(
            days=rng.randrange(300)
        )
        out.append(
            CareSchedule.create(
                uuid4(), uuid4(), CareKind.MEDICATION, "Pill", rng.choice(rules), start, rng.choice(ALL_ZONES)
            )
        )
    return out


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench_expand(n: int) -> dict[str, Any]:
    """Peak memory is the growth of the process's peak RSS (tracemalloc would slow the
    expansion several times over): first one schedule's year at a time (a task list, a feed),
    then every occurrence held at once."""
    schedules = _schedules(n)
    start = datetime(2027, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=365)
    gc.collect()
    base = _max_rss_mib()
    t0 = time.perf_counter()
    total = sum(len(s.occurrences_between(start, end)) for s in schedules)
    wall = time.perf_counter() - t0
    streaming = _max_rss_mib() - base
    gc.collect()
    base = _max_rss_mib()
    t0 = time.perf_counter()
    kept = [s.occurrences_between(start, end) for s in schedules]
    wall_kept = time.perf_counter() - t0
    all_kept = _max_rss_mib() - base
    del kept
    result = {
        "schedules": n,
        "occurrences": total,
        "seconds": round(wall, 2),
        "seconds_all_kept": round(wall_kept, 2),
        "per_schedule_ms": round(wall / n * 1000, 3),
        "per_occurrence_us": round(wall / total * 1e6, 2),
        "peak_rss_growth_mib_one_at_a_time": round(streaming, 1),
        "peak_rss_growth_mib_all_kept": round(all_kept, 1),
    }
    print(f"(a) expand: {result}", flush=True)
    return result


# --- (b) one scheduler pass over 1,000,000 schedules -----------------------------------------


FRESH = False  # --fresh: drop and rebuild the database first (e.g. after migrations were renamed)


def _urls(admin_url: str) -> Any:
    from benchmarks.generate import Dataset, generate

    global FRESH
    fresh, FRESH = FRESH, False  # once per run
    return generate(Dataset(150_000, 90_000, 300_000), admin_url=admin_url, database=DATABASE, fresh=fresh)


# One statement: 1,000,000 schedules over the 300,000 pets. Kind: 80 % reminded (medication,
# feeding), 20 % not (walk, grooming: no cursor). Daily at a minute of the day spread evenly,
# in one of four zones; the cursor is the next occurrence at or after NOW, as the use cases
# store it (care_next_fire_at), so ~1/1440 of the reminded rows are due in the next minute.
_FILL = """
INSERT INTO care_schedules (id, pet_id, family_id, kind, title, rrule, dtstart, timezone, notes, version,
                            next_fire_at)
SELECT gen_random_uuid(), p.id, p.family_id, s.kind, initcap(s.kind) || ' ' || s.g, 'FREQ=DAILY',
       timestamp '2026-01-01' + make_interval(mins => s.m), s.tz, NULL, 1,
       CASE WHEN s.kind IN ('medication', 'feeding') THEN
           CASE WHEN ((date '2026-11-25' + make_interval(mins => s.m)) AT TIME ZONE s.tz) >= %(now)s
                THEN (date '2026-11-25' + make_interval(mins => s.m)) AT TIME ZONE s.tz
                ELSE (date '2026-11-26' + make_interval(mins => s.m)) AT TIME ZONE s.tz END
       END
FROM (SELECT g, ((g * 7919) %% 1440)::int AS m,
             (ARRAY['UTC', 'Europe/London', 'America/New_York', 'Asia/Tokyo'])[(1 + (g / 7) %% 4)::int] AS tz,
             (ARRAY['medication', 'feeding', 'medication', 'feeding', 'walk'])[(1 + g %% 5)::int] AS kind,
             1 + (g %% 300000) AS rn
      FROM generate_series(0::bigint, %(n)s - 1) AS g) s
JOIN (SELECT id, family_id, row_number() OVER (ORDER BY id) AS rn FROM pets) p ON p.rn = s.rn
"""

CLAIM_SQL = """
SELECT s.id, s.pet_id, s.family_id, s.kind, s.title, s.rrule, s.dtstart, s.timezone,
       s.notes, s.version, s.next_fire_at
FROM public.care_schedules s
WHERE s.next_fire_at IS NOT NULL AND s.next_fire_at < %(before)s
ORDER BY s.next_fire_at, s.id LIMIT %(lim)s
FOR UPDATE SKIP LOCKED
"""


def _fill(owner_url: str, n: int) -> None:
    import psycopg

    with psycopg.connect(owner_url, connect_timeout=10) as conn:
        have = conn.execute("SELECT count(*) FROM care_schedules").fetchone()
        if have is not None and have[0] == n:
            print(f"(b) {n:,} care schedules already there", flush=True)
            return
        conn.execute("TRUNCATE care_schedules, care_completions, deliveries, notifications, outbox CASCADE")
        conn.execute("SET synchronous_commit = off")
        t0 = time.monotonic()
        conn.execute(_FILL, {"now": NOW, "n": n})
        conn.commit()
        print(f"(b) inserted {n:,} care schedules in {time.monotonic() - t0:.1f}s", flush=True)
    with psycopg.connect(owner_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("VACUUM (ANALYZE) care_schedules")


def _reset(owner_url: str) -> None:
    """Put back the cursors one pass advanced (to tomorrow, same minute) and forget its output."""
    import psycopg

    with psycopg.connect(owner_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "UPDATE care_schedules SET next_fire_at = next_fire_at - interval '1 day' "
            "WHERE next_fire_at >= %(a)s AND next_fire_at < %(b)s",
            {"a": NOW + timedelta(days=1), "b": NOW + timedelta(days=1, seconds=60)},
        )
        conn.execute("TRUNCATE deliveries, notifications, outbox")
        conn.execute("VACUUM (ANALYZE) care_schedules, deliveries, outbox")


def _facts(owner_url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(owner_url, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT count(*), count(next_fire_at), count(*) FILTER (WHERE next_fire_at < %(b)s),"
            " pg_size_pretty(pg_total_relation_size('care_schedules')),"
            " pg_size_pretty(pg_relation_size('ix_care_schedules_next_fire_at')), version()"
            " FROM care_schedules",
            {"b": NOW + timedelta(seconds=60)},
        ).fetchone()
    assert row is not None
    keys = ("schedules", "with_cursor", "due_next_minute", "table_size", "cursor_index_size", "postgres")
    return dict(zip(keys, row, strict=True))


def _explain(owner_url: str, limit: int) -> str:
    import psycopg

    with psycopg.connect(owner_url, connect_timeout=10) as conn:
        rows = conn.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + CLAIM_SQL, {"before": NOW + timedelta(seconds=60), "lim": limit}
        ).fetchall()
        conn.rollback()
    return "\n".join(r[0] for r in rows)


def bench_pass(admin_url: str, n: int, repeat: int) -> dict[str, Any]:
    from adapters.sql import Database
    from tailtracker_core.testing.ids import TestIds
    from tailtracker_core.testing.reminder_contract import StepClock
    from tailtracker_core.usecases.reminders import SchedulerSettings, run_pass

    urls = _urls(admin_url)
    _fill(urls.owner, n)
    _reset(urls.owner)
    facts = _facts(urls.owner)
    print(f"(b) {facts}", flush=True)
    explain = _explain(urls.owner, 500)
    db = Database(urls.app, pool_size=4)
    passes = []
    try:
        with db.uow_factory(None) as uow:  # connect once, outside the timing
            uow.reminders.claim_care_schedules(NOW - timedelta(days=30), 1)
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = run_pass(db.uow_factory, TestIds(), StepClock(NOW), SchedulerSettings())
            wall = time.perf_counter() - t0
            passes.append(
                {
                    "seconds": round(wall, 3),
                    "care_rows": result.care_rows,
                    "vaccination_rows": result.vaccination_rows,
                    "enqueued": result.enqueued,
                    "dispatched": result.dispatched,
                }
            )
            print(f"(b) pass: {passes[-1]}", flush=True)
            _reset(urls.owner)
    finally:
        db.dispose()
    return {"facts": facts, "passes": passes, "explain": explain}


# --- (c) care tasks for a month under load ---------------------------------------------------


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# Stages of a care-tasks request for the py-spy summary (inclusive, by a function on the stack).
_CARE_STAGES = [
    ("Gate._authenticate", "gate: authenticate (JWT + Redis session)"),
    ("AsyncpgPetReader._one", "read side: asyncpg BEGIN+set_config, statement, COMMIT"),
    ("care_source_from_record", "asyncpg record -> schedules, completions"),
    ("tasks_of (tailtracker_core", "expansion: tasks_of (all of it)"),
    ("_expansion (tailtracker_core", "  building the dateutil rule"),
    ("rrule.py", "  dateutil iteration"),
    ("mark_completed", "  attaching completions"),
    ("from_task (entrypoints", "CareTask -> CareTaskOut"),
    ("page_response (entrypoints", "page_response (fields)"),
    ("msgspec", "msgspec encode"),
    ("(litestar/", "Litestar (anything)"),
    ("HttpMetrics", "metrics middleware"),
]


def _breakdown(
    app_url: str, pairs: list[tuple[Any, Any]], window: tuple[datetime, datetime], n: int
) -> dict[str, Any]:
    """CPU of one care-tasks request's parts, timed in this process, one request at a time
    (no server, no concurrency): the read (asyncpg, one round trip + statement), the
    expansion, the encoding. Time spent waiting on PostgreSQL is in `read_wall_ms` only."""
    import asyncio

    import msgspec

    from adapters.sql.care_reads import AsyncpgCareTaskReader
    from entrypoints.http.schemas.care import CareTaskOut, CareTaskPage
    from tailtracker_core.usecases.care import tasks_of

    async def go() -> dict[str, Any]:
        reader = AsyncpgCareTaskReader(app_url, max_size=2)
        try:
            sources = []
            for user_id, pet_id in pairs[:20]:  # warm the pool and the statement cache
                await reader.care_source(user_id, pet_id, *window)
            wall = cpu = 0.0
            for user_id, pet_id in pairs[:n]:
                t0, c0 = time.perf_counter(), time.process_time()
                found = await reader.care_source(user_id, pet_id, *window)
                wall += time.perf_counter() - t0
                cpu += time.process_time() - c0
                assert found is not None
                assert found.role is not None
                sources.append(found)
        finally:
            await reader.close()
        expand = encode = 0.0
        tasks_seen = 0
        for f in sources:  # one request's tasks at a time, dropped after: no heap growth
            t0 = time.process_time()
            tasks = tasks_of(f.schedules, f.completions, *window)
            t1 = time.process_time()
            msgspec.json.encode(CareTaskPage([CareTaskOut.from_task(t) for t in tasks], None))
            expand, encode = expand + t1 - t0, encode + time.process_time() - t1
            tasks_seen += len(tasks)
        k = len(sources)
        return {
            "requests": k,
            "read_wall_ms": round(wall / k * 1000, 3),
            "read_cpu_ms": round(cpu / k * 1000, 3),
            "expand_cpu_ms": round(expand / k * 1000, 3),
            "encode_cpu_ms": round(encode / k * 1000, 3),
            "schedules_per_request": round(sum(len(f.schedules) for f in sources) / k, 2),
            "tasks_per_request": round(tasks_seen / k, 1),
        }

    return asyncio.run(go())


def bench_tasks(
    admin_url: str,
    redis_url: str,
    duration: int,
    warmup: int,
    users: int,
    port: int,
    connections: list[int],
    profile: bool,
) -> dict[str, Any]:
    """Care tasks for a month and, for comparison, the pet read `GET /v1/pets/{id}` for the
    same callers and pets, in the same server, at each number of connections."""
    from types import SimpleNamespace

    import psycopg

    from adapters.redis import RedisSessionStore, connect
    from adapters.security import JwtSigner, parse_keys
    from benchmarks import run as bench_run
    from benchmarks.run import Server, _get, _granian, _spawn, _status, _stop, _wait_ready, run_load
    from tailtracker_core.model.tiers import Tier
    from tailtracker_core.ports import SessionRecord

    urls = _urls(admin_url)
    _fill(urls.owner, 1_000_000)
    load_start = _loadavg()
    started = datetime.now(UTC).strftime("%H:%M UTC")
    outdir = RESULTS / f"reminders-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    outdir.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(urls.owner, connect_timeout=10) as conn:
        conn.execute("SELECT setseed(0.42)")
        rows = conn.execute(
            "SELECT m.user_id, (SELECT array_agg(id) FROM (SELECT p.id FROM pets p"
            " WHERE p.family_id = m.family_id"
            " AND EXISTS (SELECT 1 FROM care_schedules s WHERE s.pet_id = p.id) LIMIT 3) x)"
            " FROM memberships m WHERE EXISTS (SELECT 1 FROM pets p WHERE p.family_id = m.family_id)"
            " ORDER BY random() LIMIT %(n)s",
            {"n": users},
        ).fetchall()
        per_pet = conn.execute(
            "SELECT avg(c) FROM (SELECT count(*) c FROM care_schedules GROUP BY pet_id) x"
        ).fetchone()
    jwt_keys = "bench:" + os.urandom(36).hex()
    keys = parse_keys(jwt_keys)
    ttl = 7200
    signer = JwtSigner(keys, next(iter(keys)), access_ttl_seconds=ttl, refresh_ttl_seconds=ttl)
    client = connect(redis_url)
    store = RedisSessionStore(client)
    now = datetime.now(UTC)
    month = "from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z&limit=500"
    window = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
    care_pairs, pet_pairs, callers = [], [], []
    try:
        for user_id, pet_ids in rows:
            if not pet_ids:
                continue
            sid = uuid4()
            store.create(SessionRecord(sid, user_id, uuid4(), now), ttl)
            token = signer.issue_access(user_id, sid, Tier.FREE, now)
            care_pairs += [(token, f"/v1/pets/{p}/care-tasks?{month}") for p in pet_ids]
            pet_pairs += [(token, f"/v1/pets/{p}") for p in pet_ids]  # the same callers and pets
            callers += [(user_id, p) for p in pet_ids]
    finally:
        client.close()
    files = {"care-tasks": outdir / "pairs-care-tasks.tsv", "pet": outdir / "pairs-pet.tsv"}
    for name, pairs in (("care-tasks", care_pairs), ("pet", pet_pairs)):
        files[name].write_text("".join(f"{t}\t{p}\n" for t, p in pairs))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAILTRACKER_", "BENCH_"))}
    env.update(
        {
            "TAILTRACKER_ENV": "production",
            "TAILTRACKER_DATABASE_URL": urls.app,
            "TAILTRACKER_MIGRATION_DATABASE_URL": urls.owner,
            "TAILTRACKER_CACHE_URL": redis_url,
            "TAILTRACKER_BROKER_URL": "stub://",
            "TAILTRACKER_EMBEDDED_WORKER": "false",
            "TAILTRACKER_EMBEDDED_SCHEDULER": "false",
            "TAILTRACKER_RATE_LIMITS_ENABLED": "false",
            "TAILTRACKER_JWT_KEYS": jwt_keys,
            "TAILTRACKER_VAR_DIR": str(outdir / "var"),
            "TAILTRACKER_EMAIL_URL": f"file://{outdir / 'var' / 'outbox'}",
        }
    )
    server = Server(
        "api", _spawn(_granian("entrypoints.http.asgi:create", port, 1, 1), env, outdir / "api.log"), port
    )
    loads: list[dict[str, Any]] = []
    profiled: dict[str, Any] = {}
    try:
        token, path = care_pairs[0]
        _wait_ready(server, path, token, 90)
        status, body = _get(f"http://127.0.0.1:{port}{path}", token, timeout=10)
        assert status == 200, body[:300]
        tasks_per_response = len(json.loads(body)["items"])
        status, body = _get(f"http://127.0.0.1:{port}{pet_pairs[0][1]}", token, timeout=10)
        assert status == 200, body[:300]
        for conns in connections:
            for endpoint in ("care-tasks", "pet"):
                args = SimpleNamespace(duration=duration, warmup=warmup, connections=conns, threads=2)
                run_load(server, f"{endpoint}-c{conns}", files[endpoint], args, outdir, record=False)
                load = run_load(server, f"{endpoint}-c{conns}", files[endpoint], args, outdir, record=True)
                assert load is not None
                row = {"endpoint": endpoint, "connections": conns, **{k: v for k, v in vars(load).items()}}
                row["worker_cpu_ms_per_request"] = round(
                    load.cpu_s["server_workers"] / load.requests * 1000, 3
                )
                row["postgres_cpu_ms_per_request"] = round(load.cpu_s["postgres"] / load.requests * 1000, 3)
                loads.append(row)
        rss_kb = max((_status(pid).get("VmHWM", 0) for pid in server.workers()), default=0)
        if profile:
            bench_run._STAGES[:] = _CARE_STAGES
            args = SimpleNamespace(duration=duration, warmup=warmup, connections=max(connections), threads=2)
            profiled = bench_run.profile(server, "care-tasks", files["care-tasks"], args, outdir)
    finally:
        _stop(server.proc)
    try:
        breakdown = _breakdown(urls.app, callers, window, 500)
    except ImportError as exc:  # a checkout before the read side (to measure "before")
        breakdown = {"error": str(exc)}
    result = {
        "started": started,
        "load_average_start": load_start,
        "load_average_end": _loadavg(),
        "pairs": len(care_pairs),
        "schedules_per_pet": round(float(per_pet[0]), 2) if per_pet else None,
        "tasks_in_a_sample_response": tasks_per_response,
        "loads": loads,
        "worker_peak_rss_mb": round(rss_kb / 1024, 1),
        "breakdown": breakdown,
        "profile": profiled,
        "raw": str(outdir.relative_to(ROOT)),
    }
    print(f"(c) care tasks: load average {load_start} -> {result['load_average_end']}", flush=True)
    for r in loads:
        print(
            f"  {r['endpoint']:>10} c={r['connections']:<3} {r['rps']:>8.1f} req/s  p50 {r['p50_ms']} ms"
            f"  p90 {r['p90_ms']} ms  p99 {r['p99_ms']} ms  max {r['max_ms']} ms  errors"
            f" {r['non_2xx_or_socket_errors']}  worker {r['worker_cpu_ms_per_request']} ms/req"
            f"  postgres {r['postgres_cpu_ms_per_request']} ms/req",
            flush=True,
        )
    print(f"  worker peak RSS {result['worker_peak_rss_mb']} MB; breakdown {breakdown}", flush=True)
    if profiled:
        print(f"  profile: {json.dumps(profiled, indent=1)}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="benchmarks.reminders", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--part", choices=["all", "expand", "pass", "tasks"], default="all")
    p.add_argument("--schedules", type=int, default=10_000, help="(a) schedules to expand (default 10,000)")
    p.add_argument("--rows", type=int, default=1_000_000, help="(b) care schedules in PostgreSQL")
    p.add_argument("--repeat", type=int, default=3, help="(b) passes (default 3)")
    p.add_argument("--duration", type=int, default=30, help="(c) wrk seconds (default 30)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--users", type=int, default=1000, help="(c) signed-in callers")
    p.add_argument("--port", type=int, default=8183)
    p.add_argument(
        "--connections", default="64,8", help="(c) wrk connections, comma-separated (default 64,8)"
    )
    p.add_argument("--profile", action="store_true", help="(c) py-spy the worker on care tasks (not timed)")
    p.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    p.add_argument("--fresh", action="store_true", help="drop and rebuild the benchmark database first")
    args = p.parse_args(argv)
    global FRESH
    FRESH = args.fresh
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
    }
    if args.part in ("all", "expand"):
        report["expand"] = bench_expand(args.schedules)
    if args.part in ("all", "pass"):
        report["pass"] = bench_pass(args.admin_url, args.rows, args.repeat)
        print(report["pass"]["explain"])
    if args.part in ("all", "tasks"):
        report["tasks"] = bench_tasks(
            args.admin_url,
            args.redis_url,
            args.duration,
            args.warmup,
            args.users,
            args.port,
            [int(c) for c in args.connections.split(",")],
            args.profile,
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"reminders-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"report: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
