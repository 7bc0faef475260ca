"""Issue 4's benchmark: radius search in the database, the search endpoint, the alert fan-out.

    .venv/bin/python -m benchmarks.geo_run search   # radius search through the PostGIS adapter
    .venv/bin/python -m benchmarks.geo_run http     # GET /v1/lost-reports vs a bare Litestar endpoint
    .venv/bin/python -m benchmarks.geo_run fanout   # a report alerting 10,000+ users, one worker

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
import statistics
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.generate import DEFAULT_ADMIN_URL, DbUrls
from benchmarks.geo_generate import BBOX, CITIES, DEFAULT_DATABASE, NOISE
from benchmarks.geo_generate import generate as generate_geo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "performance.md"
TARGET_P95_MS = 5.0


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
    urls: DbUrls, points: list[tuple[str, float, float]], radius_km: float, limit: int
) -> dict[str, str]:
    """The plans PostgreSQL runs inside `tt_nearby_open_reports`, as auto_explain logs them
    (ANALYZE, BUFFERS, nested statements), sent back to this client as LOG notices. The call is
    the adapter's own statement with its own parameters; auto_explain needs a superuser to LOAD,
    so it runs on the admin connection (the function is SECURITY DEFINER: same rights either way)."""
    import psycopg

    from adapters.sql.geo import _NEARBY_PG, _slack_m

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
            "auto_explain.log_nested_statements = on",
            "client_min_messages = log",
        ):
            conn.execute(f"SET {setting}")
        sql = str(_NEARBY_PG).replace(":lat", "%(lat)s").replace(":lon", "%(lon)s")
        sql = (
            sql.replace(":radius_m", "%(radius_m)s")
            .replace(":species", "%(species)s")
            .replace(":lim", "%(lim)s")
        )
        for name, lat, lon in points:
            params = {
                "lat": lat,
                "lon": lon,
                "radius_m": _slack_m(radius_km),
                "species": None,
                "lim": limit + 16,
            }
            for _ in range(7):  # past plpgsql's first five custom plans: the plan it keeps
                notices.clear()
                conn.execute(sql, params).fetchall()
            inner = [n for n in notices if "FROM public.lost_reports" in n]  # the function's query
            out[name] = inner[-1] if inner else "\n".join(notices)
    return out


def search(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import text

    from adapters.sql.engine import engine_for
    from adapters.sql.geo import _NEARBY_PG, SqlGeoIndex, _slack_m
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
            params = {
                "lat": lat,
                "lon": lon,
                "radius_m": _slack_m(args.radius_km),
                "species": None,
                "lim": args.limit + 16,
            }
            t0 = time.perf_counter()
            got = conn.execute(_NEARBY_PG, params).all()
            sql_ms.append((time.perf_counter() - t0) * 1000)
            rows.append(len(got))
        backend_cpu_ms = (_proc_cpu_s(backend) - cpu0) * 1000 / len(measured)
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
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": _command(args),
        "load_start": load_start,
        "load_end": _loadavg(),
        "postgis": version,
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


def render_search(r: dict[str, Any]) -> str:
    a, s = r["adapter_ms"], r["sql_ms"]
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
        f"| the statement alone (`tt_nearby_open_reports`, the adapter's first page: {r['limit'] + 16} "
        f"rows asked, {r['sql_rows_mean']} returned on average) "
        f"| {s['mean']} | {s['p50']} | **{s['p95']}** | {s['p99']} | {s['max']} |",
        "",
        f"CPU of the PostgreSQL backend per statement (from /proc, steadier than wall time on a shared "
        f"machine): {r['backend_cpu_ms']} ms.",
        "",
        f"Target p95 <= {TARGET_P95_MS:g} ms in the database (the adapter's statement): {s['p95']} ms, "
        f"{'met' if ok else '**missed**'}. The whole adapter call, for reference: p95 {a['p95']} ms.",
    ]
    for name, plan in r["plans"].items():
        lines += [
            "",
            f"Plan inside `tt_nearby_open_reports`, {name} (auto_explain, 7th call):",
            "",
            "```",
            plan.strip(),
            "```",
        ]
    return "\n".join(lines)


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
    args.endpoints, args.profile = ["search"], False
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
    h.add_argument("--baseline-port", type=int, default=8182)
    a = p.parse_args(argv)
    a.argv = argv
    return a


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    {"search": search, "http": http}[args.step](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
