"""The read benchmark: the API against a no-framework baseline, same server, same machine, same run.

    make bench                                   # = .venv/bin/python -m benchmarks.run
    .venv/bin/python -m benchmarks.run --duration 30 --workers 1 --profile

Steps (every step bounded in time, everything on 127.0.0.1, every process it starts is stopped
on exit, Ctrl-C included):
1. the data set: `benchmarks.generate` (idempotent; --fresh rebuilds it);
2. a sample of users (default 2,000) who belong to a family with pets; for each, a session in
   Redis and an access token signed with a key made for this run (no sign-in: argon2 is slow
   by design), and (token, pet) and (token, family) pairs the token may read;
3. for each target (the API, then the baselines: `plain` and `secure` by default, see
   benchmarks/baseline_app.py): start it with granian (same interface, same
   number of workers), check one request per endpoint answers 200, warm up, then run wrk on
   `GET /v1/pets/{id}` and `GET /v1/pets?family_id=` (64 connections, 2 threads) with the
   latency distribution; record the peak RSS (VmHWM) of each worker and the CPU time the
   worker, PostgreSQL, Redis and wrk used;
4. optionally (--profile) one more, unrecorded, run per endpoint on the API with py-spy
   attached to its worker, summarised by where the worker's CPU samples fall;
5. results as JSON under benchmarks/results/ and as tables in docs/performance.md (between
   the `bench:results` markers).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from benchmarks.generate import DEFAULT_ADMIN_URL, DEFAULT_DATABASE, Dataset, DbUrls, generate

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
LUA = ROOT / "benchmarks" / "wrk" / "pairs.lua"
DOC = ROOT / "docs" / "performance.md"
BIN = Path(sys.executable).parent
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
ENDPOINTS = {"pet": "GET /v1/pets/{id}", "list": "GET /v1/pets?family_id="}
TARGETS = {"ratio": 0.6, "p99_ms": 50.0, "rss_mb": 200.0}
# baseline mode -> target name; the throughput target is stated against "secure"
BASELINES = {"plain": "baseline", "secure": "baseline-secure", "rls": "baseline-rls"}
REFERENCE = "baseline-secure"
CLK_TCK = os.sysconf("SC_CLK_TCK")

_children: list[subprocess.Popen[bytes]] = []


# --- processes ------------------------------------------------------------------------------


def _stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGINT to the process group (granian shuts down gracefully), SIGKILL after `grace`."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _cleanup() -> None:
    while _children:
        _stop(_children.pop())


def _on_term(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(  # its own process group: stopped as a whole
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _children.append(proc)
    return proc


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                kids = [int(k) for k in (task / "children").read_text().split()]
                found.extend(kids)
                todo.extend(kids)
    return found


def _status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM in kB from /proc/<pid>/status."""
    out = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                out[key] = int(value.split()[0])
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def _pids_named(name: str) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if stat.read_text().strip() == name:
                pids.append(int(stat.parent.name))
    return pids


def _total_ticks(pids: list[int]) -> int:
    return sum(_cpu_ticks(p) for p in pids)


def _machine_busy_ticks() -> int:
    """Busy CPU ticks of the whole machine (all cores), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # minus idle and iowait


# --- the server under test ------------------------------------------------------------------


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int

    def workers(self) -> list[int]:
        # granian's workers are the main process's children running the app (not helpers
        # such as multiprocessing's resource tracker).
        return [p for p in _descendants(self.proc.pid) if "resource_tracker" not in _cmdline(p)]


def _granian(app: str, port: int, workers: int, threads: int) -> list[str]:
    return [
        str(BIN / "granian"),
        "--interface",
        "asgi",
        "--factory",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--runtime-threads",
        str(threads),
        "--http",
        "1",
        "--no-ws",
        "--log-level",
        "warning",
    ]


def _get(url: str, token: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET with a bearer token; token "-" sends none (a signed-out caller, as in pairs.lua)."""
    headers = {} if token == "-" else {"Authorization": f"Bearer {token}"}
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _wait_ready(server: Server, probe: str, token: str, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    last = "no answer"
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}: see its log")
        try:
            status, body = _get(f"http://127.0.0.1:{server.port}{probe}", token, timeout=2.0)
            if status == 200:
                return
            last = f"{status} {body[:300]!r}"
        except OSError as e:
            last = str(e)
        time.sleep(0.3)
    raise RuntimeError(f"{server.name} not ready after {deadline_s:.0f}s: {last}")


# --- data for the load ----------------------------------------------------------------------


@dataclass
class Sample:
    pet_pairs: list[tuple[str, str]]  # (token, path)
    list_pairs: list[tuple[str, str]]


def _sample_rows(owner_url: str, users: int, pets_each: int) -> list[tuple[UUID, UUID, list[UUID]]]:
    import psycopg

    sql = """
        SELECT m.user_id, m.family_id,
               (SELECT array_agg(id) FROM (SELECT id FROM pets WHERE family_id = m.family_id
                                           ORDER BY random() LIMIT %(pets)s) s)
        FROM memberships m
        WHERE EXISTS (SELECT 1 FROM pets p WHERE p.family_id = m.family_id)
        ORDER BY random() LIMIT %(users)s
    """
    with psycopg.connect(owner_url, connect_timeout=10) as conn:
        conn.execute("SELECT setseed(0.42)")
        return [(r[0], r[1], list(r[2])) for r in conn.execute(sql, {"users": users, "pets": pets_each})]


def mint_sample(owner_url: str, redis_url: str, jwt_keys: str, users: int, ttl_s: int) -> Sample:
    """Sessions in Redis and access tokens for `users` members, as sign-in would leave them."""
    from adapters.redis import RedisSessionStore, connect
    from adapters.security import JwtSigner, parse_keys
    from tailtracker_core.model.tiers import Tier
    from tailtracker_core.ports import SessionRecord

    rows = _sample_rows(owner_url, users, pets_each=5)
    keys = parse_keys(jwt_keys)
    signer = JwtSigner(keys, next(iter(keys)), access_ttl_seconds=ttl_s, refresh_ttl_seconds=ttl_s)
    client = connect(redis_url)
    store = RedisSessionStore(client)
    now = datetime.now(UTC)
    pet_pairs, list_pairs = [], []
    try:
        for user_id, family_id, pet_ids in rows:
            session_id = uuid4()
            store.create(SessionRecord(session_id, user_id, uuid4(), now), ttl_s)
            token = signer.issue_access(user_id, session_id, Tier.FREE, now)
            pet_pairs += [(token, f"/v1/pets/{p}") for p in pet_ids]
            list_pairs.append((token, f"/v1/pets?family_id={family_id}"))
    finally:
        client.close()
    return Sample(pet_pairs, list_pairs)


# --- wrk ------------------------------------------------------------------------------------


@dataclass
class Load:
    target: str
    endpoint: str
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    errors: dict[str, int]
    non_2xx_or_socket_errors: int
    cpu_s: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0


def _wrk(port: int, pairs: Path, out: Path, duration: int, connections: int, threads: int) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
    ]
    env = {**os.environ, "BENCH_PAIRS": str(pairs), "BENCH_OUT": str(out)}
    out.unlink(missing_ok=True)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + duration + 60
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=5)
        raise RuntimeError("wrk did not finish in time")
    assert proc.stdout is not None
    text = proc.stdout.read().decode(errors="replace")
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{text}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["stdout"] = text
    return result


def _ms(us: float) -> float:
    return round(us / 1000.0, 2)


def run_load(
    server: Server, endpoint: str, pairs: Path, args: argparse.Namespace, outdir: Path, *, record: bool
) -> Load | None:
    workers = server.workers()
    postgres, redis_ = _pids_named("postgres"), _pids_named("redis-server")
    before = {
        "api_workers": _total_ticks(workers),
        "postgres": _total_ticks(postgres),
        "redis": _total_ticks(redis_),
    }
    children_before = os.times()
    machine_before = _machine_busy_ticks()
    t0 = time.monotonic()
    duration = args.duration if record else args.warmup
    raw = _wrk(
        server.port,
        pairs,
        outdir / f"wrk-{server.name}-{endpoint}.json",
        duration,
        args.connections,
        args.threads,
    )
    wall = time.monotonic() - t0
    children_after = os.times()
    machine = (_machine_busy_ticks() - machine_before) / CLK_TCK
    if not record:
        return None
    after = {
        "api_workers": _total_ticks(workers),
        "postgres": _total_ticks(postgres),
        "redis": _total_ticks(redis_),
    }
    cpu = {k: round((after[k] - before[k]) / CLK_TCK, 2) for k in before}
    cpu["wrk"] = round(
        (children_after.children_user - children_before.children_user)
        + (children_after.children_system - children_before.children_system),
        2,
    )
    cpu["server_workers"] = cpu.pop("api_workers")
    # what the rest of the machine used meanwhile (other people's jobs on a shared box)
    cpu["others"] = round(max(0.0, machine - sum(cpu.values())), 2)
    cpu["machine"] = round(machine, 2)
    pct = raw["latency_us"]["percentiles"]
    errors = raw["errors"]
    load = Load(
        target=server.name,
        endpoint=endpoint,
        requests=raw["requests"],
        rps=round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        p50_ms=_ms(pct["50"]),
        p90_ms=_ms(pct["90"]),
        p99_ms=_ms(pct["99"]),
        p999_ms=_ms(pct["99.9"]),
        max_ms=_ms(raw["latency_us"]["max"]),
        errors=errors,
        non_2xx_or_socket_errors=sum(errors.values()),
        cpu_s=cpu,
        wall_s=round(wall, 1),
    )
    print(
        f"  {server.name:>14} {ENDPOINTS.get(endpoint, endpoint):<24} {load.rps:>9.1f} req/s"
        f"  p50 {load.p50_ms} ms  p99 {load.p99_ms} ms  errors {load.non_2xx_or_socket_errors}  cpu {cpu}",
        flush=True,
    )
    return load


# --- profiling ------------------------------------------------------------------------------


_GROUPS = [
    ("sqlalchemy", "SQLAlchemy"),
    ("psycopg", "psycopg (driver)"),
    ("asyncpg", "asyncpg (driver, read side)"),
    ("litestar", "Litestar"),
    ("msgspec", "msgspec"),
    ("anyio", "anyio (thread offload)"),
    ("asyncio", "asyncio"),
    ("threading.py", "threading"),
    ("concurrent", "threading"),
    ("redis", "redis-py (sessions)"),
    ("jwt", "PyJWT"),
    ("cryptography", "PyJWT"),
    ("hmac", "PyJWT"),
    ("tailtracker_core", "TailTracker core"),
    ("entrypoints", "TailTracker HTTP"),
    ("adapters", "TailTracker adapters"),
    ("granian", "granian"),
    ("prometheus_client", "prometheus_client"),
    ("attr", "attrs"),
    ("uuid.py", "uuid"),
    ("socket.py", "socket"),
    ("selectors.py", "selectors"),
    ("logging", "logging"),
    ("structlog", "logging"),
]


# Stages of a request, by a function on the stack (inclusive: a sample counts for every stage
# whose function is anywhere on its stack).
_STAGES = [
    ("Gate._authenticate", "gate: authenticate (JWT + Redis session)"),
    ("JwtSigner.decode_access", "  JWT decode and checks"),
    ("SessionReader.get", "  Redis session lookup (redis.asyncio)"),
    ("AsyncpgPetReader._one", "read side: asyncpg BEGIN+set_config, statement, COMMIT"),
    ("pet_from_record", "asyncpg record -> Pet (mapping)"),
    ("SqlUnitOfWork._conn", "unit of work: pool checkout, BEGIN, set_config"),
    ("SqlPets.get", "SqlPets.get (incl. first-use BEGIN)"),
    ("SqlPets.list", "SqlPets.list"),
    ("SqlFamilies.role_of", "SqlFamilies.role_of"),
    ("SqlUnitOfWork.__exit__", "unit of work exit: ROLLBACK, pool return"),
    ("Cursor.execute (psycopg", "psycopg Cursor.execute"),
    ("_compile_w_cache", "SQLAlchemy statement compile/cache lookup"),
    ("pet_from (adapters", "row -> Pet (mapping)"),
    ("from_pet (entrypoints", "Pet -> PetOut"),
    ("msgspec", "msgspec encode/decode"),
    ("represent (entrypoints", "represent (ETag, fields)"),
    ("sync_to_thread (litestar", "Litestar sync_to_thread hop"),
    ("run_sync (anyio", "anyio to_thread hop (gate)"),
    ("(litestar/", "Litestar (anything)"),
    ("HttpMetrics", "metrics middleware"),
]


def _group(frame: str) -> str:
    for needle, name in _GROUPS:
        if f"/{needle}" in frame or f"({needle}" in frame:
            return name
    m = re.search(r"\((?:.*/)?([^/()]+?)(?:\.py)?:\d+\)", frame)
    return m.group(1) if m else frame[:40]


def summarise_profile(raw: Path, top: int = 12) -> dict[str, Any]:
    """From py-spy's collapsed stacks: where the samples' leaves fall (self), and which groups
    appear anywhere on the stack (inclusive), by library."""
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    leaf_fn: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [
            f for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")
        ]
        if not frames:
            continue
        total += n
        leaf[_group(frames[-1])] += n
        leaf_fn[frames[-1]] += n
        for g in {_group(f) for f in frames}:
            inclusive[g] += n
        for needle, label in _STAGES:
            if needle in stack:
                stages[label] += n

    def pct(c: Counter[str]) -> list[tuple[str, float]]:
        return [(k, round(100.0 * v / total, 1)) for k, v in c.most_common(top)] if total else []

    return {
        "samples": total,
        "self_by_library": pct(leaf),
        "inclusive_by_library": pct(inclusive),
        "top_leaf_functions": pct(leaf_fn),
        "stages": [(label, round(100.0 * stages[label] / total, 1)) for _, label in _STAGES] if total else [],
    }


def profile(
    server: Server, endpoint: str, pairs: Path, args: argparse.Namespace, outdir: Path
) -> dict[str, Any]:
    spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    workers = server.workers()
    if not spy or not workers:
        return {"error": "py-spy is not installed (.venv/bin/pip install py-spy)" if not spy else "no worker"}
    raw = outdir / f"profile-{server.name}-{endpoint}.txt"
    duration = max(5, min(args.duration, 20))
    cmd = [
        spy,
        "record",
        "--pid",
        str(workers[0]),
        "--duration",
        str(duration),
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(raw),
        "--nonblocking",
    ]
    spy_proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)
        _wrk(server.port, pairs, outdir / "wrk-profile.json", duration, args.connections, args.threads)
        spy_proc.wait(timeout=duration + 30)
    finally:
        if spy_proc.poll() is None:
            spy_proc.kill()
            spy_proc.wait(timeout=5)
    if not raw.exists():
        err = spy_proc.stderr.read().decode(errors="replace") if spy_proc.stderr else ""
        return {"error": f"py-spy wrote nothing: {err[-300:]}"}
    summary = summarise_profile(raw)
    summary["file"] = str(raw.relative_to(ROOT))
    return summary


# --- one target -----------------------------------------------------------------------------


@dataclass
class TargetResult:
    name: str
    loads: list[Load]
    rss_kb: list[dict[str, int]]
    profiles: dict[str, Any] = field(default_factory=dict)


def bench_target(
    name: str,
    app: str,
    env: dict[str, str],
    port: int,
    pair_files: dict[str, Path],
    sample: Sample,
    args: argparse.Namespace,
    outdir: Path,
    probes: dict[str, tuple[str, str]] | None = None,
) -> TargetResult:
    """Start `app` with granian, check each endpoint answers 200 (its (token, path) in `probes`;
    by default the sample's first pet and family pair), then warm up and measure each of
    `args.endpoints` with wrk, sampling the workers' RSS."""
    if probes is None:
        probes = {"pet": sample.pet_pairs[0], "list": sample.list_pairs[0]}
    print(f"\n== {name}: granian --interface asgi --factory {app} --workers {args.workers}", flush=True)
    proc = _spawn(_granian(app, port, args.workers, args.runtime_threads), env, outdir / f"{name}.log")
    server = Server(name, proc, port)
    try:
        token, path = probes[args.endpoints[0]]
        _wait_ready(server, path, token, deadline_s=90)
        for endpoint in args.endpoints:
            token, path = probes[endpoint]
            status, body = _get(f"http://127.0.0.1:{port}{path}", token)
            if status != 200:
                raise RuntimeError(f"{name} {path}: {status} {body[:500]!r}")
        peak: dict[int, int] = {}
        stop_sampling = threading.Event()

        def sample_rss() -> None:  # VmHWM is the peak; VmRSS sampled too, as a cross-check
            while not stop_sampling.wait(0.5):
                for pid in server.workers():
                    peak[pid] = max(peak.get(pid, 0), _status(pid).get("VmRSS", 0))

        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        loads = []
        for endpoint in args.endpoints:
            run_load(server, endpoint, pair_files[endpoint], args, outdir, record=False)  # warm-up
            load = run_load(server, endpoint, pair_files[endpoint], args, outdir, record=True)
            assert load is not None
            loads.append(load)
        stop_sampling.set()
        sampler.join(timeout=2)
        rss = []
        for pid in server.workers():
            st = _status(pid)
            rss.append(
                {
                    "pid": pid,
                    "VmHWM_kB": st.get("VmHWM", 0),
                    "VmRSS_kB": st.get("VmRSS", 0),
                    "sampled_peak_RSS_kB": peak.get(pid, 0),
                }
            )
        for r in rss:
            print(f"  {name} worker {r['pid']}: peak RSS (VmHWM) {r['VmHWM_kB'] / 1024:.1f} MB", flush=True)
        result = TargetResult(name, loads, rss)
        if args.profile and name == "api":
            for endpoint in args.endpoints:
                print(
                    f"  profiling {name} {ENDPOINTS.get(endpoint, endpoint)} with py-spy"
                    " (not part of the figures)",
                    flush=True,
                )
                result.profiles[endpoint] = profile(server, endpoint, pair_files[endpoint], args, outdir)
        return result
    finally:
        _stop(proc)
        with contextlib.suppress(ValueError):
            _children.remove(proc)


# --- facts and the report -------------------------------------------------------------------


def machine_facts(owner_url: str) -> dict[str, str]:
    import psycopg

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError):
        mem_kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
    with psycopg.connect(owner_url, connect_timeout=10) as conn:
        pg = conn.execute("SHOW server_version").fetchone()
        shared = conn.execute("SHOW shared_buffers").fetchone()
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False)
    granian = subprocess.run(
        [str(BIN / "granian"), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": f"{pg[0] if pg else '?'} (shared_buffers {shared[0] if shared else '?'})",
        "granian": granian.stdout.strip(),
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "wrk",
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(report: dict[str, Any]) -> str:
    a, sample = report["args"], report["sample"]
    lines = [
        START,
        "",
        f"Measured {report['date']} with:",
        "",
        "```sh",
        report["command"],
        "```",
        "",
        f"{a['connections']} connections, {a['threads']} wrk threads, {a['duration']} s per endpoint after a "
        f"{a['warmup']} s warm-up; {a['workers']} granian worker(s) per server, {a['runtime_threads']} "
        f"runtime thread(s); {sample['users']} signed-in users, {sample['pet_pairs']} (token, pet) "
        f"and {sample['list_pairs']} (token, family) pairs; rate limits off in the API.",
        "",
        "| Machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in report["machine"].items()],
        "",
        "| Server | Endpoint | Requests/s | vs secure | vs plain | p50 ms | p90 ms | p99 ms | p99.9 ms"
        " | max ms | Errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def loads_of(name: str) -> dict[str, Any]:
        t = next((t for t in report["targets"] if t["name"] == name), None)
        return {ld["endpoint"]: ld for ld in t["loads"]} if t else {}

    secure, plain = loads_of(REFERENCE), loads_of("baseline")

    def ratio_to(ref: dict[str, Any], ld: dict[str, Any]) -> str:
        b = ref.get(ld["endpoint"])
        return f"{ld['rps'] / b['rps']:.2f}x" if b and b["rps"] else "-"

    for t in report["targets"]:
        for ld in t["loads"]:
            err = ld["non_2xx_or_socket_errors"]
            detail = ", ".join(f"{k} {v}" for k, v in ld["errors"].items() if v)
            lines.append(
                f"| {t['name']} | `{ENDPOINTS[ld['endpoint']]}` | {ld['rps']:,.0f} | "
                f"{ratio_to(secure, ld)} | {ratio_to(plain, ld)} | "
                f"{ld['p50_ms']} | {ld['p90_ms']} | {ld['p99_ms']} | {ld['p999_ms']} | {ld['max_ms']} | {err}"
                f"{f' ({detail})' if detail else ''} |"
            )
    lines += [
        "",
        "CPU seconds used during each measured run (wall time in brackets):",
        "",
        "| Server | Endpoint | server workers | PostgreSQL | Redis | wrk | anything else"
        " | CPU ms/request (server) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in report["targets"]:
        for ld in t["loads"]:
            c = ld["cpu_s"]
            per = 1000.0 * c["server_workers"] / ld["requests"] if ld["requests"] else 0.0
            lines.append(
                f"| {t['name']} | `{ENDPOINTS[ld['endpoint']]}` | {c['server_workers']} ({ld['wall_s']} s) | "
                f"{c['postgres']} | {c['redis']} | {c['wrk']} | {c.get('others', '-')} | {per:.3f} |"
            )
    lines += ["", "| Server | Worker | Peak RSS (VmHWM) | RSS at the end |", "|---|---|---:|---:|"]
    for t in report["targets"]:
        for i, r in enumerate(t["rss_kb"], start=1):
            lines.append(
                f"| {t['name']} | {i} | {r['VmHWM_kB'] / 1024:.1f} MB | {r['VmRSS_kB'] / 1024:.1f} MB |"
            )
    if report["targets"] and report["targets"][0]["name"] == "api":
        api = report["targets"][0]
        lines += [
            "",
            "Targets (the API; throughput against the `secure` baseline, the `plain` ratio for reference):",
            "",
            "| Target | Measured | Verdict |",
            "|---|---|---|",
        ]
        for ld in api["loads"]:
            ep = ENDPOINTS[ld["endpoint"]]
            for label, ref, binding in (("secure", secure, True), ("plain", plain, False)):
                b = ref.get(ld["endpoint"])
                if not b:
                    continue
                r = ld["rps"] / b["rps"] if b["rps"] else 0.0
                verdict = _verdict(r >= TARGETS["ratio"])
                if not binding:
                    would = "would be met" if r >= TARGETS["ratio"] else "would be missed"
                    verdict = f"({would}; not the target)"
                lines.append(f"| `{ep}` throughput >= 0.6x `{label}` baseline | {r:.2f}x | {verdict} |")
            lines.append(
                f"| `{ep}` p99 <= 50 ms | {ld['p99_ms']} ms | {_verdict(ld['p99_ms'] <= TARGETS['p99_ms'])} |"
            )
            err = ld["non_2xx_or_socket_errors"]
            lines.append(f"| `{ep}` zero errors | {err} | {_verdict(err == 0)} |")
        worst = max((r["VmHWM_kB"] for r in api["rss_kb"]), default=0) / 1024
        lines.append(
            f"| RSS per API worker <= 200 MB | {worst:.1f} MB | {_verdict(worst <= TARGETS['rss_mb'])} |"
        )
    profiles = (report["targets"][0].get("profiles") or {}) if report["targets"] else {}
    for endpoint, prof in profiles.items():
        lines += ["", f"py-spy on the API worker, `{ENDPOINTS[endpoint]}` (a separate, unrecorded run):", ""]
        if "error" in prof:
            lines.append(f"- {prof['error']}")
            continue
        lines += [
            f"{prof['samples']} samples of the worker's non-idle threads (py-spy record at 200 Hz); "
            f"raw stacks in `{prof['file']}` (not committed).",
            "",
            "| Library on the stack (inclusive) | % of samples | Library at the leaf (self) | % |",
            "|---|---:|---|---:|",
        ]
        inc, own = prof["inclusive_by_library"], prof["self_by_library"]
        for i in range(max(len(inc), len(own))):
            a1, a2 = inc[i] if i < len(inc) else ("", "")
            b1, b2 = own[i] if i < len(own) else ("", "")
            lines.append(f"| {a1} | {a2} | {b1} | {b2} |")
        lines += ["", "| Stage of the request (inclusive) | % of samples |", "|---|---:|"]
        lines += [f"| {label} | {share} |" for label, share in prof.get("stages", [])]
    lines += ["", END]
    return "\n".join(lines)


def write_doc(section: str, doc: Path) -> None:
    text = doc.read_text() if doc.exists() else f"# Performance\n\n## Results\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n## Results\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(head + section + tail)


# --- main -----------------------------------------------------------------------------------


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--duration", type=int, default=30, help="seconds of measured load per endpoint (default 30)"
    )
    p.add_argument("--warmup", type=int, default=5, help="seconds of unrecorded load first (default 5)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--workers", type=int, default=1, help="granian workers per server (default 1)")
    p.add_argument("--runtime-threads", type=int, default=1, help="granian runtime threads (default 1)")
    p.add_argument("--users", type=int, default=2000, help="signed-in users in the sample (default 2000)")
    p.add_argument(
        "--endpoints", default="pet,list", help="comma-separated: pet (GET /v1/pets/{id}), list (?family_id=)"
    )
    p.add_argument(
        "--baseline-mode",
        default="plain,secure",
        help="comma-separated baselines (default plain,secure): secure (verifies the token, checks the "
        "session in Redis, reads as the app role under row-level security: the reference for the "
        "targets), plain (one query as the owner role, no token check, no RLS), rls (plain's "
        "token handling, the app role under RLS in a 4-round-trip transaction)",
    )
    p.add_argument("--skip-api", action="store_true", help="only the baseline")
    p.add_argument(
        "--profile", action="store_true", help="after the measured runs, profile the API with py-spy"
    )
    p.add_argument(
        "--fresh", action="store_true", help="rebuild the data set first (benchmarks.generate --fresh)"
    )
    p.add_argument(
        "--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL superuser URL (default: %(default)s)"
    )
    p.add_argument("--database", default=DEFAULT_DATABASE, help="benchmark database (default: %(default)s)")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="sessions (default: %(default)s)")
    p.add_argument("--api-port", type=int, default=8181)
    p.add_argument("--baseline-port", type=int, default=8182)
    p.add_argument(
        "--pool-size", type=int, default=10, help="API pool_size (overflow as much again); baseline: 2x"
    )
    p.add_argument(
        "--doc", type=Path, default=DOC, help="Markdown file to update (default docs/performance.md)"
    )
    p.add_argument("--no-doc", action="store_true", help="do not touch the Markdown file")
    a = p.parse_args(argv)
    a.endpoints = [e.strip() for e in a.endpoints.split(",") if e.strip()]
    a.baseline_mode = [m.strip() for m in a.baseline_mode.split(",") if m.strip()]
    if not set(a.endpoints) <= set(ENDPOINTS) or not set(a.baseline_mode) <= set(BASELINES):
        p.error("--endpoints takes pet,list and --baseline-mode plain,secure,rls")
    if a.duration < 1 or a.warmup < 1 or a.connections < 1 or a.workers < 1:
        p.error("durations, connections and workers must be positive")
    return a


def base_environment() -> dict[str, str]:
    """This process's environment without any TAILTRACKER_/BENCH_ setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("TAILTRACKER_", "BENCH_"))}


def api_environment(
    urls: DbUrls, redis_url: str, jwt_keys: str, pool_size: int, port: int, outdir: Path
) -> dict[str, str]:
    """The API's settings under test: production mode, the app role under RLS, Redis, no broker
    (stub, no embedded worker), rate limits off (see docs/performance.md)."""
    return {
        **base_environment(),
        "TAILTRACKER_ENV": "production",
        "TAILTRACKER_DATABASE_URL": urls.app,
        "TAILTRACKER_MIGRATION_DATABASE_URL": urls.owner,
        "TAILTRACKER_DATABASE_POOL_SIZE": str(pool_size),
        "TAILTRACKER_CACHE_URL": redis_url,
        "TAILTRACKER_BROKER_URL": "stub://",
        "TAILTRACKER_EMBEDDED_WORKER": "false",
        "TAILTRACKER_RATE_LIMITS_ENABLED": "false",
        "TAILTRACKER_JWT_KEYS": jwt_keys,
        "TAILTRACKER_VAR_DIR": str(outdir / "var"),
        "TAILTRACKER_EMAIL_URL": f"file://{outdir / 'var' / 'outbox'}",
        "TAILTRACKER_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    atexit.register(_cleanup)
    signal.signal(signal.SIGTERM, _on_term)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    outdir = RESULTS / stamp
    outdir.mkdir(parents=True, exist_ok=True)

    urls: DbUrls = generate(
        Dataset(150_000, 90_000, 300_000), admin_url=args.admin_url, database=args.database, fresh=args.fresh
    )
    jwt_keys = "bench:" + os.urandom(36).hex()
    ttl = int(timedelta(hours=2).total_seconds())
    t0 = time.monotonic()
    sample = mint_sample(urls.owner, args.redis_url, jwt_keys, args.users, ttl)
    print(f"minted {args.users} sessions and tokens in {time.monotonic() - t0:.1f}s", flush=True)
    pair_files = {}
    for endpoint, pairs in (("pet", sample.pet_pairs), ("list", sample.list_pairs)):
        path = outdir / f"pairs-{endpoint}.tsv"
        path.write_text("".join(f"{tok}\t{target}\n" for tok, target in pairs))
        pair_files[endpoint] = path

    base_env = base_environment()
    api_env = api_environment(urls, args.redis_url, jwt_keys, args.pool_size, args.api_port, outdir)
    results: list[TargetResult] = []
    if not args.skip_api:
        results.append(
            bench_target(
                "api",
                "entrypoints.http.asgi:create",
                api_env,
                args.api_port,
                pair_files,
                sample,
                args,
                outdir,
            )
        )
    for mode in args.baseline_mode:
        env = {
            **base_env,
            "BENCH_BASELINE_DSN": urls.owner if mode == "plain" else urls.app,
            "BENCH_BASELINE_POOL": str(2 * args.pool_size),
            "BENCH_BASELINE_MODE": mode,
            "BENCH_BASELINE_JWT_KEYS": jwt_keys,
            "BENCH_BASELINE_REDIS_URL": args.redis_url,
        }
        name = BASELINES[mode]
        results.append(
            bench_target(
                name,
                "benchmarks.baseline_app:create",
                env,
                args.baseline_port,
                pair_files,
                sample,
                args,
                outdir,
            )
        )

    given = sys.argv[1:] if argv is None else argv
    command = " ".join([".venv/bin/python -m benchmarks.run", *given]) if given else "make bench"
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "args": {k: v for k, v in vars(args).items() if k not in {"doc"}},
        "machine": {
            **machine_facts(urls.owner),
            "load average at the end": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        },
        "sample": {
            "users": args.users,
            "pet_pairs": len(sample.pet_pairs),
            "list_pairs": len(sample.list_pairs),
        },
        "targets": [
            {
                "name": r.name,
                "loads": [asdict(ld) for ld in r.loads],
                "rss_kb": r.rss_kb,
                "profiles": r.profiles,
            }
            for r in results
        ],
    }
    (outdir / "report.json").write_text(json.dumps(report, indent=2, default=str))
    section = render(report)
    (outdir / "report.md").write_text(section + "\n")
    print("\n" + section)
    if not args.no_doc:
        write_doc(section, args.doc)
        print(f"\nwrote {args.doc.relative_to(ROOT) if args.doc.is_relative_to(ROOT) else args.doc}")
    print(f"raw results in {outdir.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
