"""Issue 4's benchmark: radius search in the database, the search endpoint, the alert fan-out.

    .venv/bin/python -m benchmarks.geo_run search   # radius search through the PostGIS adapter
    .venv/bin/python -m benchmarks.geo_run http     # GET /v1/lost-reports vs a bare Litestar endpoint
    .venv/bin/python -m benchmarks.geo_run fanout   # a report alerting 10,000+ users, one worker
    .venv/bin/python -m benchmarks.geo_run verify   # both search adapters against brute force

The data set is `benchmarks.geo_generate` (1,000,000 open lost reports over Germany, 200,000
users with alert areas; built on first use, idempotent). Each step writes its raw figures to
`benchmarks/results/<timestamp>-geo-<step>/` and its table into docs/performance.md between
its own markers (`geo:<step>:start` / `geo:<step>:end`), with the load average seen at the
start and at the end of the run. Not part of `make test` or CI.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.sql.geo import _NEARBY_PLANAR_PG, mercator_reach
from adapters.sql.lost_reads import NEARBY_PLANAR
from benchmarks.generate import DEFAULT_ADMIN_URL, DbUrls
from benchmarks.geo_generate import BBOX, CITIES, DEFAULT_DATABASE, NOISE
from benchmarks.geo_generate import generate as generate_geo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "performance.md"
TARGET_P95_MS = 5.0
# The public search's first statement (adapters/sql/lost_reads.py) as the HTTP benchmark runs
# it: the API's default limit of 20 plus the adapter's extra rows; `$n` as SQLAlchemy's named
# parameters (the species parameter appears twice).
HTTP_LIMIT = 20
PUBLIC_EXTRA = 2
_NEARBY_PUBLIC_SQL = re.sub(r"\$(\d)", r":p\1", NEARBY_PLANAR)
_GEO_SQL = str(_NEARBY_PLANAR_PG)  # the GeoIndex's walk: ids and points


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _outdir(step: str) -> Path:
    out = RESULTS / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-geo-{step}"
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_section(step: str, section: str, doc: Path = DOC) -> None:
    """Replace the text between this step's markers (appended at the end the first time)."""
    start, end = f"<!-- geo:{step}:start -->", f"<!-- geo:{step}:end -->"
    text = doc.read_text()
    if start not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(f"{head}{start}\n{section.strip()}\n{end}{tail}")


def centres(n: int, seed: int) -> list[tuple[float, float]]:
    """Search centres drawn like the data (people search where pets get lost): the generator's
    cities and uniform noise, in Python."""
    rng = random.Random(seed)
    total = sum(c[3] for c in CITIES)
    weights = [NOISE] + [(1 - NOISE) * c[3] / total for c in CITIES]
    out = []
    for _ in range(n):
        i = rng.choices(range(len(weights)), weights=weights)[0]
        if i == 0:
            out.append((rng.uniform(BBOX[0], BBOX[1]), rng.uniform(BBOX[2], BBOX[3])))
            continue
        _, lat, lon, _, sigma = CITIES[i - 1]
        r, a = math.sqrt(-2 * math.log(1 - rng.random())) * sigma, 2 * math.pi * rng.random()
        out.append(
            (lat + r * math.sin(a) / 111.195, lon + r * math.cos(a) / (111.195 * math.cos(math.radians(lat))))
        )
    return out


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "mean": round(statistics.fmean(ms), 3),
        "p50": round(_pct(ms, 50), 3),
        "p95": round(_pct(ms, 95), 3),
        "p99": round(_pct(ms, 99), 3),
        "max": round(max(ms), 3),
    }


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a local process (a PostgreSQL backend) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _command(args: argparse.Namespace) -> str:
    return ".venv/bin/python -m benchmarks.geo_run " + " ".join(
        sys.argv[1:] if args.argv is None else args.argv
    )


def _data(args: argparse.Namespace) -> DbUrls:
    return generate_geo(args.reports, args.users, admin_url=args.admin_url, database=args.database)


def _admin_db_url(urls: DbUrls) -> str:
    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(urls.admin)
    info["dbname"] = urls.database
    return psycopg.conninfo.make_conninfo(**info)


# --- 2. radius search in the database ---------------------------------------------------------


def plans(
    urls: DbUrls,
    points: list[tuple[str, float, float]],
    radius_km: float,
    limit: int,
    public: bool = False,
) -> dict[str, str]:
    """The plan of the search's first statement (the Mercator walk, D35) as auto_explain logs it
    (ANALYZE, BUFFERS), sent back to this client as a LOG notice, the seventh call (past the
    five custom plans). `public`: the public search's statement (public columns, `limit + 2`
    rows); otherwise the GeoIndex's (ids and points, `limit + 2` rows). auto_explain needs a
    superuser to LOAD, so it runs on the admin connection (the view reads with its owner's
    rights: the same rows either way)."""
    import psycopg

    out: dict[str, str] = {}
    with psycopg.connect(_admin_db_url(urls), autocommit=True) as conn:
        notices: list[str] = []
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for setting in (
            "auto_explain.log_min_duration = 0",
            "auto_explain.log_analyze = on",
            "auto_explain.log_buffers = on",
            "auto_explain.log_timing = on",
            "client_min_messages = log",
        ):
            conn.execute(f"SET {setting}")
        sql = re.sub(
            r":(p\d|lat|lon|half|species|lim)\b", r"%(\1)s", _NEARBY_PUBLIC_SQL if public else _GEO_SQL
        )
        for name, lat, lon in points:
            params = (
                _public_params(lat, lon, radius_km) if public else _geo_params(lat, lon, radius_km, limit)
            )
            for _ in range(7):
                notices.clear()
                conn.execute(sql, params).fetchall()
            out[name] = notices[-1] if notices else ""
    return out


def _geo_params(lat: float, lon: float, radius_km: float, limit: int) -> dict[str, Any]:
    """The GeoIndex's first statement (`SqlGeoIndex._nearby_planar`)."""
    return {"lat": lat, "lon": lon, "half": mercator_reach(lat, radius_km), "species": None, "lim": limit + 2}


def search(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import text

    from adapters.sql.engine import engine_for
    from adapters.sql.geo import SqlGeoIndex
    from tailtracker_core.model.geo import GeoPoint

    urls = _data(args)
    outdir = _outdir("search")
    load_start = _loadavg()
    engine = engine_for(urls.app, pool_size=2)
    geo = SqlGeoIndex(engine)
    pts = centres(args.warmup + args.queries, args.seed)
    warm, measured = pts[: args.warmup], pts[args.warmup :]
    for lat, lon in warm:
        geo.nearby_open_reports(GeoPoint(lat, lon), args.radius_km, None, args.limit)
    adapter_ms, hits = [], []
    for lat, lon in measured:
        t0 = time.perf_counter()
        found = geo.nearby_open_reports(GeoPoint(lat, lon), args.radius_km, None, args.limit)
        adapter_ms.append((time.perf_counter() - t0) * 1000)
        hits.append(len(found))
    # The statement alone, on one open connection (what the database spends, plus one round trip).
    sql_ms, rows = [], []
    with engine.connect() as conn:
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        cpu0 = _proc_cpu_s(backend)
        for lat, lon in measured:
            params = _geo_params(lat, lon, args.radius_km, args.limit)
            t0 = time.perf_counter()
            got = conn.execute(text(_GEO_SQL), params).all()
            sql_ms.append((time.perf_counter() - t0) * 1000)
            rows.append(len(got))
        backend_cpu_ms = (_proc_cpu_s(backend) - cpu0) * 1000 / len(measured)
        # The public search's one statement, at the HTTP benchmark's limit (the async read side).
        public_sql, public_ms, public_rows = text(_NEARBY_PUBLIC_SQL), [], []
        for lat, lon in warm:
            conn.execute(public_sql, _public_params(lat, lon, args.radius_km)).all()
        cpu0 = _proc_cpu_s(backend)
        for lat, lon in measured:
            t0 = time.perf_counter()
            got = conn.execute(public_sql, _public_params(lat, lon, args.radius_km)).all()
            public_ms.append((time.perf_counter() - t0) * 1000)
            public_rows.append(len(got))
        public_cpu_ms = (_proc_cpu_s(backend) - cpu0) * 1000 / len(measured)
        conn.rollback()
        version = conn.execute(text("SELECT public.postgis_lib_version()")).scalar_one()
    engine.dispose()
    dense = max(CITIES, key=lambda c: c[3])
    explain = plans(
        urls,
        [(f"dense ({dense[0]} centre)", dense[1], dense[2]), ("sparse (rural, 50.0 N 10.0 E)", 50.0, 10.0)],
        args.radius_km,
        args.limit,
    )
    public_plans = plans(
        urls,
        [(f"dense ({dense[0]} centre)", dense[1], dense[2]), ("sparse (rural, 50.0 N 10.0 E)", 50.0, 10.0)],
        args.radius_km,
        HTTP_LIMIT,
        public=True,
    )
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": _command(args),
        "load_start": load_start,
        "load_end": _loadavg(),
        "postgis": version,
        "public_ms": _summary(public_ms),
        "public_rows_mean": round(statistics.fmean(public_rows), 1),
        "public_cpu_ms": round(public_cpu_ms, 3),
        "public_plans": public_plans,
        "queries": args.queries,
        "warmup": args.warmup,
        "radius_km": args.radius_km,
        "limit": args.limit,
        "adapter_ms": _summary(adapter_ms),
        "sql_ms": _summary(sql_ms),
        "hits": {
            "mean": round(statistics.fmean(hits), 1),
            "zero": sum(1 for h in hits if h == 0),
            "at_limit": sum(1 for h in hits if h >= args.limit),
        },
        "sql_rows_mean": round(statistics.fmean(rows), 1),
        "backend_cpu_ms": round(backend_cpu_ms, 3),
        "plans": explain,
    }
    (outdir / "report.json").write_text(json.dumps(report, indent=2))
    section = render_search(report)
    (outdir / "report.md").write_text(section + "\n")
    print(section)
    if not args.no_doc:
        write_section("search", section, args.doc)
    print(f"raw results in {outdir.relative_to(ROOT)}")
    return report


def _public_params(lat: float, lon: float, radius_km: float) -> dict[str, Any]:
    return {
        "p1": lat,
        "p2": lon,
        "p3": mercator_reach(lat, radius_km),
        "p4": None,
        "p5": HTTP_LIMIT + PUBLIC_EXTRA,
    }


def render_search(r: dict[str, Any]) -> str:
    a, s, p = r["adapter_ms"], r["sql_ms"], r["public_ms"]
    ok = s["p95"] <= TARGET_P95_MS  # "in the database": the adapter's statement
    lines = [
        f"Measured {r['date']} with `{r['command']}` (PostGIS {r['postgis']}); load average "
        f"{r['load_start']} at the start, {r['load_end']} at the end.",
        "",
        f"{r['queries']:,} searches (after {r['warmup']} unrecorded), radius {r['radius_km']:g} km, at most "
        f"{r['limit']} hits, centres drawn like the data; on average {r['hits']['mean']} hits, "
        f"{r['hits']['at_limit']:,} searches at the {r['limit']} limit, {r['hits']['zero']:,} with none.",
        "",
        "| What is timed | mean ms | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
        f"| `SqlGeoIndex.nearby_open_reports` (pool checkout, statement, exact check, rollback) "
        f"| {a['mean']} | {a['p50']} | {a['p95']} | {a['p99']} | {a['max']} |",
        f"| the statement alone (the Mercator walk of `tt_public_open_reports`, ids and points, the "
        f"adapter's first page: {r['limit'] + 2} "
        f"rows asked, {r['sql_rows_mean']} returned on average) "
        f"| {s['mean']} | {s['p50']} | **{s['p95']}** | {s['p99']} | {s['max']} |",
        f"| the public search's statement (the Mercator walk of `tt_public_open_reports`, what "
        f"`GET /v1/lost-reports` runs: {HTTP_LIMIT + PUBLIC_EXTRA} rows asked, "
        f"{r['public_rows_mean']} returned on average) "
        f"| {p['mean']} | {p['p50']} | {p['p95']} | {p['p99']} | {p['max']} |",
        "",
        f"CPU of the PostgreSQL backend per statement (from /proc, steadier than wall time on a shared "
        f"machine): {r['backend_cpu_ms']} ms (the GeoIndex's statement), {r['public_cpu_ms']} ms "
        f"(the public search's statement).",
        "",
        f"Target p95 <= {TARGET_P95_MS:g} ms in the database (the adapter's statement): {s['p95']} ms, "
        f"{'met' if ok else '**missed**'}. The whole adapter call, for reference: p95 {a['p95']} ms.",
    ]
    for name, plan in r["plans"].items():
        lines += [
            "",
            f"Plan of the GeoIndex's statement, {name} (auto_explain, 7th call):",
            "",
            "```",
            plan.strip(),
            "```",
        ]
    for name, plan in r["public_plans"].items():
        lines += [
            "",
            f"Plan of the public search's statement at limit {HTTP_LIMIT + PUBLIC_EXTRA}, {name} "
            "(auto_explain, 7th call; the Mercator walk of `tt_public_open_reports`):",
            "",
            "```",
            plan.strip(),
            "```",
        ]
    return "\n".join(lines)


def verify(args: argparse.Namespace) -> dict[str, Any]:
    """Both PostgreSQL search adapters (the GeoIndex and the async public reader, as the app
    role) against brute force on the 1,000,000-report set: every open report within the radius
    by `ST_DWithin` (plus slack), ordered by the core's distance, then id, cut at the limit.
    Random radii, limits and species, centres drawn like the data and uniform. Prints the counts
    of searches, hits and mismatches; exits 1 on any mismatch. Not timed."""
    import asyncio

    import psycopg

    from adapters.sql.engine import engine_for
    from adapters.sql.geo import SqlGeoIndex
    from adapters.sql.lost_reads import AsyncpgNearbyReader
    from adapters.sql.reads import AsyncpgPetReader
    from tailtracker_core.model.geo import GeoPoint, distance_km
    from tailtracker_core.model.pets import Species

    urls = _data(args)
    rng = random.Random(args.seed)
    lat0, lat1, lon0, lon1 = BBOX  # min lat, max lat, min lon, max lon
    points = centres(args.searches // 2, args.seed) + [
        (rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)) for _ in range(args.searches - args.searches // 2)
    ]
    cases = [
        (
            GeoPoint(lat, lon),
            rng.choice([0.5, 1.0, 2.0, 5.0, 5.0, 10.0, 25.0]),
            rng.choice([1, 2, 5, 20, 20, 50, 100, 102]),
            rng.choice([None, None, Species.DOG, Species.CAT]),
        )
        for lat, lon in points
    ]
    truth = []
    with psycopg.connect(_admin_db_url(urls)) as admin:
        for c, radius, limit, species in cases:
            rows = admin.execute(
                "SELECT id, lat, lon FROM lost_reports WHERE status = 'open'"
                " AND (%(s)s::text IS NULL OR species = %(s)s) AND ST_DWithin(location,"
                " ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(r)s, false)",
                {
                    "s": species.value if species else None,
                    "lat": c.lat,
                    "lon": c.lon,
                    "r": radius * 1010 + 10,
                },
            ).fetchall()
            near = sorted((distance_km(c, GeoPoint(a, b)), i) for i, a, b in rows)
            truth.append([i for d, i in near if d <= radius][:limit])
    engine = engine_for(urls.app, pool_size=1)
    geo = SqlGeoIndex(engine)
    sync = [[i for i, _ in geo.nearby_open_reports(c, r, sp, lim)] for c, r, lim, sp in cases]
    engine.dispose()

    async def public() -> list[list[Any]]:
        # 16 searches at a time, as under load: their first pages go out together (D37).
        reader = AsyncpgNearbyReader(AsyncpgPetReader(urls.app, max_size=2))
        try:
            found: list[list[Any]] = []
            for at in range(0, len(cases), 16):
                group = cases[at : at + 16]
                pages = await asyncio.gather(*(reader.nearby(c, r, sp, lim) for c, r, lim, sp in group))
                found += [[h.report.report_id for h in hits] for hits in pages]
            return found
        finally:
            await reader.close()

    public_ids = asyncio.run(public())
    report = {
        "searches": len(cases),
        "hits": sum(len(t) for t in truth),
        "geo_index_mismatches": sum(a != b for a, b in zip(sync, truth, strict=True)),
        "public_reader_mismatches": sum(a != b for a, b in zip(public_ids, truth, strict=True)),
    }
    print(json.dumps(report))
    if report["geo_index_mismatches"] or report["public_reader_mismatches"]:
        raise SystemExit(1)
    return report


# --- 3. the search endpoint over HTTP ---------------------------------------------------------

HTTP_TARGETS = {"ratio": 0.15}


def http(args: argparse.Namespace) -> dict[str, Any]:
    """`GET /v1/lost-reports?lat=&lon=&radius_km=5` on the API against a bare Litestar JSON
    endpoint (benchmarks/baseline_app.py, mode "litestar"), one after the other in the same run,
    with run.py's machinery: granian, wrk (pairs.lua), RSS and CPU sampling."""
    import atexit
    import shutil
    import signal

    from benchmarks import run as bench

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    atexit.register(bench._cleanup)
    signal.signal(signal.SIGTERM, bench._on_term)
    urls = _data(args)
    outdir = _outdir("http")
    load_start = _loadavg()
    pairs = outdir / "pairs-search.tsv"
    paths = [
        f"/v1/lost-reports?lat={lat:.5f}&lon={lon:.5f}&radius_km={args.radius_km:g}"
        for lat, lon in centres(args.paths, args.seed)
    ]
    pairs.write_text("".join(f"-\t{path}\n" for path in paths))  # signed out: the public search
    args.endpoints = ["search"]
    probes = {"search": ("-", paths[0])}
    api_env = bench.api_environment(
        urls, args.redis_url, "bench:" + os.urandom(36).hex(), args.pool_size, args.api_port, outdir
    )
    empty = bench.Sample([], [])
    results = [
        bench.bench_target(
            "api",
            "entrypoints.http.asgi:create",
            api_env,
            args.api_port,
            {"search": pairs},
            empty,
            args,
            outdir,
            probes,
        ),
        bench.bench_target(
            "bare-litestar",
            "benchmarks.baseline_app:create",
            {**bench.base_environment(), "BENCH_BASELINE_MODE": "litestar"},
            args.baseline_port,
            {"search": pairs},
            empty,
            args,
            outdir,
            probes,
        ),
    ]
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": _command(args),
        "load_start": load_start,
        "load_end": _loadavg(),
        "paths": len(paths),
        "radius_km": args.radius_km,
        "duration": args.duration,
        "warmup": args.warmup,
        "connections": args.connections,
        "threads": args.threads,
        "workers": args.workers,
        "targets": [{"name": r.name, "load": asdict(r.loads[0]), "rss_kb": r.rss_kb} for r in results],
        "profiles": results[0].profiles,
    }
    (outdir / "report.json").write_text(json.dumps(report, indent=2, default=str))
    section = render_http(report)
    (outdir / "report.md").write_text(section + "\n")
    print(section)
    if not args.no_doc:
        write_section("http", section, args.doc)
    print(f"raw results in {outdir.relative_to(ROOT)}")
    return report


def render_http(r: dict[str, Any]) -> str:
    api, bare = r["targets"][0], r["targets"][1]
    ratio = api["load"]["rps"] / bare["load"]["rps"] if bare["load"]["rps"] else 0.0
    lines = [
        f"Measured {r['date']} with `{r['command']}`; load average {r['load_start']} at the start, "
        f"{r['load_end']} at the end.",
        "",
        f"{r['connections']} connections, {r['threads']} wrk threads, {r['duration']} s per server after a "
        f"{r['warmup']} s warm-up, {r['workers']} granian worker(s) each; {r['paths']:,} search paths "
        f"(radius {r['radius_km']:g} km, default limit 20, centres drawn like the data), signed out.",
        "",
        "| Server | Requests/s | vs bare | p50 ms | p90 ms | p99 ms | max ms | Errors | Peak RSS (VmHWM) |"
        " CPU ms/request (server) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in (api, bare):
        ld = t["load"]
        rss = max((w["VmHWM_kB"] for w in t["rss_kb"]), default=0) / 1024
        cpu = ld["cpu_s"].get("server_workers", 0.0) * 1000 / max(1, ld["requests"])
        lines.append(
            f"| {t['name']} | {ld['rps']:,.0f} | {ld['rps'] / bare['load']['rps']:.2f}x | {ld['p50_ms']} | "
            f"{ld['p90_ms']} | {ld['p99_ms']} | {ld['max_ms']} | {ld['non_2xx_or_socket_errors']} | "
            f"{rss:.1f} MB | {cpu:.3f} |"
        )
    cpu_rows = [
        f"| {t['name']} | {t['load']['cpu_s'].get('server_workers')} ({t['load']['wall_s']} s) | "
        f"{t['load']['cpu_s'].get('postgres')} | {t['load']['cpu_s'].get('redis')} | "
        f"{t['load']['cpu_s'].get('wrk')} | {t['load']['cpu_s'].get('others')} |"
        for t in (api, bare)
    ]
    ok = ratio >= HTTP_TARGETS["ratio"]
    errors = api["load"]["non_2xx_or_socket_errors"]
    lines += [
        "",
        "CPU seconds during each measured run (wall time in brackets):",
        "",
        "| Server | server workers | PostgreSQL | Redis | wrk | anything else |",
        "|---|---:|---:|---:|---:|---:|",
        *cpu_rows,
        "",
        f"Targets: throughput >= {HTTP_TARGETS['ratio']}x the bare endpoint: {ratio:.2f}x, "
        f"{'met' if ok else '**missed**'}; zero errors: {errors}, {'met' if errors == 0 else '**missed**'}.",
    ]
    return "\n".join(lines)


# --- 4. the alert fan-out --------------------------------------------------------------------

FANOUT_TARGET_S = 60.0
FANOUT_CENTRE = (52.52, 13.405)  # central Berlin: the densest spot of the data set
# One worker process, as `tailtracker worker --with-relay` runs it (relay + due dispatcher), on
# queues of its own so that nobody else's worker on the same RabbitMQ takes its messages.
_WORKER = """
import sys
from adapters.queue import DramatiqPublisher
from entrypoints.bootstrap import Settings, build, configure_logging
from entrypoints.worker import run_worker
events_queue, notification_queue, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings = Settings.from_env()
configure_logging(settings)
container = build(settings)
publisher = DramatiqPublisher(container.broker, queue_name=events_queue)
try:
    run_worker(
        container.broker, container.handlers, threads=threads,
        relay=(container.outbox, publisher, container.deps.clock), dispatch=container.deps.uow,
        queue_name=events_queue, notification_queue_name=notification_queue,
    )
finally:
    container.close()
"""

# Users who qualify for an alert about a report at (lat, lon) with radius r km: an alert area
# within both radii and the latest `location_alerts` consent granted (the core's rule, in SQL,
# to know the expected count before the run; the pet's family holds no alert users).
_QUALIFYING = """
WITH c AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS g),
latest AS (SELECT DISTINCT ON (user_id) user_id, granted FROM consent_records
           WHERE purpose = 'location_alerts' ORDER BY user_id, recorded_at DESC, id DESC)
SELECT count(*) FROM users u CROSS JOIN c JOIN latest l ON l.user_id = u.id AND l.granted
WHERE u.alert_location IS NOT NULL AND ST_DWithin(u.alert_location, c.g, %(r)s * 1000.0, false)
  AND ST_Distance(u.alert_location, c.g, false) <= u.alert_radius_km * 1000.0
"""


def _fanout_arrange(conn: Any, users: int, radius_km: float) -> tuple[Any, Any, int, int]:
    """The step's own owner, family and pet (made once), its earlier reports and their
    alerts removed, and as many extra consenting users within the radius as it takes for the
    report to alert exactly `users` people. Returns (owner id, pet id, extra users, expected)."""
    lat, lon = FANOUT_CENTRE
    # consent_records has no foreign key to users (records outlive accounts): delete them first
    conn.execute(
        "DELETE FROM consent_records WHERE user_id IN"
        " (SELECT id FROM users WHERE email_key LIKE 'fanout.extra.%%')"
    )
    conn.execute("DELETE FROM users WHERE email_key LIKE 'fanout.extra.%%'")
    row = conn.execute("SELECT id FROM users WHERE email_key = 'fanout.owner@example.test'").fetchone()
    if row is None:
        owner = conn.execute(
            """INSERT INTO users (id, email, email_key, display_name, password_hash, created_at, locale,
                                  timezone, version)
               VALUES (gen_random_uuid(), 'fanout.owner@example.test', 'fanout.owner@example.test',
                       'Fan Out', 'x', now(), 'de-DE', 'Europe/Berlin', 1) RETURNING id"""
        ).fetchone()[0]
        family = conn.execute(
            "INSERT INTO families (id, name, created_at, version)"
            " VALUES (gen_random_uuid(), 'Fan-out', now(), 1)"
            " RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO memberships (family_id, user_id, role, joined_at) VALUES (%s, %s, 'owner', now())",
            (family, owner),
        )
        conn.execute(
            """INSERT INTO pets (id, family_id, name, species, sex, created_at, updated_at, colors, version)
               VALUES (gen_random_uuid(), %s, 'Fanny', 'dog', 'female', now(), now(), '["brown"]', 1)""",
            (family,),
        )
    else:
        owner = row[0]
    pet = conn.execute(
        "SELECT p.id FROM pets p JOIN memberships m ON m.family_id = p.family_id WHERE m.user_id = %s",
        (owner,),
    ).fetchone()[0]
    conn.execute("DELETE FROM lost_reports WHERE pet_id = %s", (pet,))  # cascades to the ledger
    conn.execute("DELETE FROM notifications WHERE category = 'lost_pet_alert'")
    conn.execute("DELETE FROM deliveries WHERE category = 'lost_pet_alert'")
    have = conn.execute(_QUALIFYING, {"lat": lat, "lon": lon, "r": radius_km}).fetchone()[0]
    extra = max(0, users - have)
    conn.execute("SELECT setseed(0.4)")
    conn.execute(
        """
        INSERT INTO users (id, email, email_key, display_name, password_hash, created_at, locale, timezone,
                           alert_lat, alert_lon, alert_radius_km, version)
        SELECT gen_random_uuid(), 'fanout.extra.' || g || '@example.test',
               'fanout.extra.' || g || '@example.test',
               'Neighbour ' || g, 'x', now() - interval '1 day', 'de-DE', 'Europe/Berlin',
               %(lat)s + d * cos(a) / 111.195, %(lon)s + d * sin(a) / (111.195 * cos(radians(%(lat)s))),
               %(r)s, 1
        FROM (SELECT g, 2 * pi() * random() AS a, 0.95 * %(r)s * sqrt(random()) AS d
              FROM generate_series(1, %(n)s) g) s""",
        {"lat": lat, "lon": lon, "r": radius_km, "n": extra},
    )
    conn.execute(
        """INSERT INTO consent_records (id, user_id, purpose, granted, policy_version, recorded_at, method)
           SELECT gen_random_uuid(), id, 'location_alerts', true, '2026-01', now() - interval '1 hour', 'app'
           FROM users WHERE email_key LIKE 'fanout.extra.%%'"""
    )
    expected = conn.execute(_QUALIFYING, {"lat": lat, "lon": lon, "r": radius_km}).fetchone()[0]
    conn.execute("ANALYZE users")
    return owner, pet, extra, expected


_PROGRESS = """
SELECT (SELECT count(*) FROM lost_pet_alert_ledger WHERE report_id = %(r)s),
       (SELECT count(*) FROM deliveries WHERE subject = %(s)s),
       (SELECT count(*) FROM deliveries WHERE subject = %(s)s AND status IN ('sent', 'delivered')),
       (SELECT count(*) FROM deliveries WHERE subject = %(s)s AND status IN ('failed', 'cancelled')),
       (SELECT count(*) FROM notifications n JOIN deliveries d ON d.id = n.delivery_id
        WHERE d.subject = %(s)s),
       (SELECT max(created_at) FROM lost_pet_alert_ledger WHERE report_id = %(r)s),
       (SELECT max(created_at) FROM deliveries WHERE subject = %(s)s),
       (SELECT max(sent_at) FROM deliveries WHERE subject = %(s)s),
       (SELECT max(n.created_at) FROM notifications n JOIN deliveries d ON d.id = n.delivery_id
        WHERE d.subject = %(s)s)
"""


def fanout(args: argparse.Namespace) -> dict[str, Any]:
    """Open one lost report through the use case (its commit records `lost_report.opened` in
    the outbox) with one worker process running on RabbitMQ, and time until every alert of it
    is delivered: the ledger, the deliveries, the in-app notifications, the email files."""
    import atexit
    import signal
    import threading
    from uuid import uuid4

    import psycopg

    from benchmarks import run as bench

    atexit.register(bench._cleanup)
    signal.signal(signal.SIGTERM, bench._on_term)
    urls = _data(args)
    outdir = _outdir("fanout")
    load_start = _loadavg()
    with psycopg.connect(urls.owner, autocommit=True) as conn:
        owner, pet, extra, expected = _fanout_arrange(conn, args.alerted, args.radius_km)
    print(f"{expected:,} users qualify ({extra:,} added by this step); starting one worker", flush=True)
    queues = (f"geobench-{uuid4().hex[:8]}-events", f"geobench-{uuid4().hex[:8]}-notifications")
    outbox_dir = outdir / "outbox"
    env = {
        **bench.base_environment(),
        "PYTHONUNBUFFERED": "1",
        "TAILTRACKER_ENV": "production",
        "TAILTRACKER_JWT_KEYS": "bench:" + os.urandom(36).hex(),
        "TAILTRACKER_DATABASE_URL": urls.app,
        "TAILTRACKER_MIGRATION_DATABASE_URL": urls.owner,
        "TAILTRACKER_BROKER_URL": args.amqp_url,
        "TAILTRACKER_CACHE_URL": "memory://",
        "TAILTRACKER_EMBEDDED_WORKER": "false",
        "TAILTRACKER_EMAIL_URL": f"file://{outbox_dir}",
        "TAILTRACKER_VAR_DIR": str(outdir / "var"),
        "TAILTRACKER_LOG_LEVEL": "WARNING",
    }
    worker = bench._spawn(
        [sys.executable, "-c", _WORKER, *queues, str(args.threads)], env, outdir / "worker.log"
    )
    peak = {"rss": 0}
    stop = threading.Event()

    def sample_rss() -> None:
        while not stop.wait(0.5):
            peak["rss"] = max(peak["rss"], bench._status(worker.pid).get("VmRSS", 0))

    threading.Thread(target=sample_rss, daemon=True).start()
    time.sleep(args.settle)  # the worker connects and declares its queues
    if worker.poll() is not None:
        raise SystemExit(f"the worker exited: see {outdir / 'worker.log'}")
    from entrypoints.bootstrap import Settings, build
    from tailtracker_core.model.geo import GeoPoint
    from tailtracker_core.usecases import lost_found

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        container = build(Settings.from_env())
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    deps = container.deps
    cpu0 = bench._cpu_ticks(worker.pid)
    report = lost_found.open_lost_report(
        deps,
        owner,
        pet,
        deps.clock.now() - timedelta(hours=1),
        GeoPoint(*FANOUT_CENTRE),
        args.radius_km,
        "geobench fan-out",
    )
    committed = datetime.now(UTC)
    t0 = time.monotonic()
    container.close()
    subject = f"lost_pet_alert:{report.id}"
    progress: list[dict[str, Any]] = []
    done = None
    with psycopg.connect(urls.owner, autocommit=True) as conn:
        while time.monotonic() - t0 < args.timeout:
            row = conn.execute(_PROGRESS, {"r": report.id, "s": subject}).fetchone()
            claimed, deliveries, sent, given_up, notes = row[:5]
            progress.append(
                {
                    "t": round(time.monotonic() - t0, 2),
                    "ledger": claimed,
                    "deliveries": deliveries,
                    "sent": sent,
                    "notifications": notes,
                }
            )
            if claimed >= expected and deliveries and sent + given_up >= deliveries:
                done = row
                break
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited: see {outdir / 'worker.log'}")
            time.sleep(0.25)
        observed_s = time.monotonic() - t0
        if done is None:
            done = conn.execute(_PROGRESS, {"r": report.id, "s": subject}).fetchone()
        channels = dict(
            conn.execute(
                "SELECT channel || ':' || status, count(*) FROM deliveries WHERE subject = %s GROUP BY 1",
                (subject,),
            ).fetchall()
        )
    worker_cpu = (bench._cpu_ticks(worker.pid) - cpu0) / bench.CLK_TCK
    stop.set()
    bench._stop(worker)
    claimed, deliveries, sent, given_up, notes, last_claim, last_delivery_row, last_sent, last_note = done

    def after(ts: datetime | None) -> float | None:
        return round((ts - committed).total_seconds(), 2) if ts else None

    emails = sum(1 for _ in outbox_dir.rglob("*") if _.is_file()) if outbox_dir.exists() else 0
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": _command(args),
        "load_start": load_start,
        "load_end": _loadavg(),
        "report_id": str(report.id),
        "radius_km": args.radius_km,
        "expected": expected,
        "extra_users": extra,
        "threads": args.threads,
        "complete": claimed >= expected and sent + given_up >= deliveries > 0,
        "observed_s": round(observed_s, 2),
        "ledger": claimed,
        "deliveries": deliveries,
        "sent": sent,
        "given_up": given_up,
        "notifications": notes,
        "emails": emails,
        "channels": channels,
        "last_claim_s": after(last_claim),
        "last_delivery_row_s": after(last_delivery_row),
        "last_sent_s": after(last_sent),
        "last_notification_s": after(last_note),
        "worker_cpu_s": round(worker_cpu, 2),
        "worker_peak_rss_mb": round(peak["rss"] / 1024, 1),
        "progress": progress,
    }
    (outdir / "report.json").write_text(json.dumps(result, indent=2, default=str))
    section = render_fanout(result)
    (outdir / "report.md").write_text(section + "\n")
    print(section)
    if not args.no_doc:
        write_section("fanout", section, args.doc)
    print(f"raw results in {outdir.relative_to(ROOT)}")
    return result


def render_fanout(r: dict[str, Any]) -> str:
    last = r["last_sent_s"] if r["last_sent_s"] is not None else r["observed_s"]
    ok = r["complete"] and last <= FANOUT_TARGET_S
    marks = [(p["t"], p) for p in r["progress"]]
    halfway = next((t for t, p in marks if p["ledger"] >= r["expected"]), None)
    lines = [
        f"Measured {r['date']} with `{r['command']}`; load average {r['load_start']} at the start, "
        f"{r['load_end']} at the end.",
        "",
        f"One report at central Berlin, radius {r['radius_km']:g} km: {r['expected']:,} users qualify "
        f"({r['extra_users']:,} of them added by the step). One worker process, {r['threads']} threads, "
        "RabbitMQ, email through the file sender.",
        "",
        "| From the report's commit to | seconds |",
        "|---|---:|",
        f"| the last ledger claim (every recipient chosen; first seen complete by polling: "
        f"{halfway if halfway is not None else '-'} s) | {r['last_claim_s']} |",
        f"| the last delivery row enqueued | {r['last_delivery_row_s']} |",
        f"| the last in-app notification written | {r['last_notification_s']} |",
        f"| **the last delivery sent** (in-app or email) | **{r['last_sent_s']}** |",
        "",
        f"Counts: {r['ledger']:,} alerts claimed, {r['deliveries']:,} deliveries "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(r['channels'].items()))}), "
        f"{r['notifications']:,} in-app notifications, {r['emails']:,} email files. Worker: "
        f"{r['worker_cpu_s']} CPU seconds, peak RSS {r['worker_peak_rss_mb']} MB.",
        "",
        f"Target: every alert out within {FANOUT_TARGET_S:g} s: {last} s, {'met' if ok else '**missed**'}.",
    ]
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.geo_run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL superuser URL (default: %(default)s)"
    )
    p.add_argument("--database", default=DEFAULT_DATABASE, help="benchmark database (default: %(default)s)")
    p.add_argument("--reports", type=int, default=1_000_000, help="open lost reports in the data set")
    p.add_argument("--users", type=int, default=200_000, help="users with an alert area in the data set")
    p.add_argument(
        "--doc", type=Path, default=DOC, help="Markdown file to update (default docs/performance.md)"
    )
    p.add_argument("--no-doc", action="store_true", help="do not touch the Markdown file")
    sub = p.add_subparsers(dest="step", required=True)
    s = sub.add_parser("search", help="radius search through the PostGIS adapter")
    s.add_argument("--queries", type=int, default=5000)
    s.add_argument("--warmup", type=int, default=500)
    s.add_argument("--radius-km", type=float, default=5.0)
    s.add_argument("--limit", type=int, default=100)
    s.add_argument("--seed", type=int, default=7)
    h = sub.add_parser("http", help="GET /v1/lost-reports against a bare Litestar endpoint, with wrk")
    h.add_argument("--duration", type=int, default=30, help="seconds of measured load per server")
    h.add_argument("--warmup", type=int, default=5, help="seconds of unrecorded load first")
    h.add_argument("--connections", type=int, default=64)
    h.add_argument("--threads", type=int, default=2, help="wrk threads")
    h.add_argument("--workers", type=int, default=1, help="granian workers per server")
    h.add_argument("--runtime-threads", type=int, default=1)
    h.add_argument("--paths", type=int, default=5000, help="distinct search centres")
    h.add_argument("--radius-km", type=float, default=5.0)
    h.add_argument("--seed", type=int, default=11)
    h.add_argument("--pool-size", type=int, default=10, help="the API's TAILTRACKER_DATABASE_POOL_SIZE")
    h.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="the API's cache")
    h.add_argument("--api-port", type=int, default=8181)
    h.add_argument(
        "--profile", action="store_true", help="after the measured runs, profile the API worker with py-spy"
    )
    h.add_argument("--baseline-port", type=int, default=8182)
    v = sub.add_parser("verify", help="both search adapters against brute force (exactness, not time)")
    v.add_argument("--searches", type=int, default=400)
    v.add_argument("--seed", type=int, default=7)
    f = sub.add_parser("fanout", help="one report alerting --alerted users, one worker process, RabbitMQ")
    f.add_argument("--alerted", type=int, default=10_000, help="users the report alerts (default 10,000)")
    f.add_argument("--radius-km", type=float, default=5.0, help="the report's radius")
    f.add_argument("--threads", type=int, default=4, help="worker threads (the worker's default: 4)")
    f.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    f.add_argument("--settle", type=float, default=3.0, help="seconds for the worker to start")
    f.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds")
    a = p.parse_args(argv)
    a.argv = argv
    return a


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    {"search": search, "http": http, "fanout": fanout, "verify": verify}[args.step](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
