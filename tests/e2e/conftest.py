"""The real app in a subprocess: granian serving `entrypoints.http.asgi:create` on a free port.

`live_server` is parametrised over two back ends and runs each test once per back end:

- `sqlite`: the embedded default. SQLite in a temporary directory (migrated first with the
  CLI), in-process cache, the stub broker with the worker and relay inside the API process,
  emails written as .eml files to `<tmp>/outbox`.
- `postgres`: a freshly provisioned PostgreSQL database the app reaches as its
  non-owner role (row-level security applies), Redis database 14 (emptied before and after;
  a lock key makes two test sessions on one machine take turns) for the cache, rate limiter
  and sessions; still the stub broker and the file outbox. It needs the
  `postgres_admin_url` and `redis_url` services (tests/conftest.py: skipped locally when
  missing, a failure with CI=true).

`fuzz_server` is one more server of its own for schemathesis, so that the fuzzer's traffic
(random sign-ups, failed logins and their throttle) cannot disturb the flow test: the embedded
default, or PostgreSQL + Redis (database 13) with TAILTRACKER_FUZZ_BACKEND=postgres.

Servers are started once per session and stopped with SIGTERM (SIGKILL after a timeout).
Their output goes to `<tmp>/server.log`, which is attached to the report of every failing
test that used that server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from attrs import frozen

from tests.fixtures.messaging import free_port

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 15.0
E2E_REDIS_DB = 14
FUZZ_REDIS_DB = 13
REDIS_LOCK_KEY = "tt:e2e:held-by"
REDIS_LOCK_TTL_S = 900  # outlives any e2e session; frees itself if a run is killed
REDIS_LOCK_WAIT_S = 600.0


@frozen
class LiveServer:
    """A running app: where it answers, where its emails land, where its log is."""

    backend: str
    base_url: str
    outbox: Path
    log: Path
    files_url: str = ""  # where the server keeps uploaded files (TAILTRACKER_FILES_URL)

    def log_tail(self, lines: int = 200) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


def _tool(name: str) -> str:
    """A console script of this virtualenv (next to the interpreter), else from PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (pip install -e '.[dev]')", pytrace=False)
    return found


def _env(extra: dict[str, str]) -> dict[str, str]:
    # The server sees only the settings given here, not whatever the developer exported.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAILTRACKER_")}
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _Process:
    def __init__(self, tmp: Path, settings: dict[str, str], backend: str) -> None:
        self.tmp, self.backend = tmp, backend
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.outbox = tmp / "outbox"
        self.log = tmp / "server.log"
        self.env = _env(
            {
                "TAILTRACKER_VAR_DIR": str(tmp / "var"),
                "TAILTRACKER_BROKER_URL": "stub://",
                "TAILTRACKER_EMBEDDED_WORKER": "true",
                "TAILTRACKER_EMAIL_URL": f"file://{self.outbox}",
                "TAILTRACKER_ARGON2_TIME_COST": "1",
                "TAILTRACKER_ARGON2_MEMORY_KIB": "1024",
                # 60 requests a minute per user would throttle the fuzzer; the limiter has its own tests.
                "TAILTRACKER_RATE_LIMITS_ENABLED": "false",
                "TAILTRACKER_PUBLIC_BASE_URL": self.base_url,
                **settings,
            }
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def server(self) -> LiveServer:
        files_url = self.env.get("TAILTRACKER_FILES_URL") or f"file://{self.env['TAILTRACKER_VAR_DIR']}/files"
        return LiveServer(self.backend, self.base_url, self.outbox, self.log, files_url)

    def migrate(self) -> None:
        done = subprocess.run(
            [_tool("tailtracker"), "migrate"],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(
                f"`tailtracker migrate` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}",
                pytrace=False,
            )

    def start(self) -> None:
        command = [
            _tool("granian"),
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--access-log",
            "entrypoints.http.asgi:create",
        ]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"the {self.backend} server exited with {self.proc.returncode} before answering "
                    f"/health:\n{self.server().log_tail()}",
                    pytrace=False,
                )
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(
            f"the {self.backend} server did not answer /health within {STARTUP_TIMEOUT_S:.0f} s:\n"
            f"{self.server().log_tail()}",
            pytrace=False,
        )

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            # Its own session (start_new_session): the group is the server and its workers only.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=SHUTDOWN_TIMEOUT_S)


def _start(tmp: Path, settings: dict[str, str], backend: str) -> _Process:
    process = _Process(tmp, settings, backend)
    process.migrate()
    process.start()
    return process


def _redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


@contextmanager
def _redis_to_ourselves(url: str) -> Iterator[None]:
    """Hold a Redis database for one server: wait for any other test session (another
    developer's run, another xdist worker) to finish with it, then empty it before and after.

    The app writes keys without a per-run prefix, so emptying is the only clean state; the
    lock key is what makes emptying safe when two runs share the machine.
    """
    import redis

    client = redis.Redis.from_url(url)
    token = uuid.uuid4().hex
    deadline = time.monotonic() + REDIS_LOCK_WAIT_S
    try:
        while not client.set(REDIS_LOCK_KEY, token, nx=True, ex=REDIS_LOCK_TTL_S):
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{url} stayed held by another test session (key {REDIS_LOCK_KEY})", pytrace=False
                )
            time.sleep(0.5)
        _empty_except_lock(client)
        yield
        _empty_except_lock(client)
    finally:
        if client.get(REDIS_LOCK_KEY) == token.encode():
            client.delete(REDIS_LOCK_KEY)
        client.close()


def _empty_except_lock(client: Any) -> None:
    keys = [k for k in client.scan_iter(count=1000) if k != REDIS_LOCK_KEY.encode()]
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


def _drop_database(admin_url: str, database: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@contextmanager
def _sqlite(tmp: Path) -> Iterator[_Process]:
    settings = {
        "TAILTRACKER_DATABASE_URL": f"sqlite:///{tmp}/db.sqlite",
        "TAILTRACKER_CACHE_URL": "memory://",
    }
    process = _start(tmp, settings, "sqlite")
    try:
        yield process
    finally:
        process.stop()


@contextmanager
def _postgres(
    tmp: Path, admin_url: str, redis_url: str, redis_db: int, files_url: str | None = None
) -> Iterator[_Process]:
    from adapters.sql.roles import provision_postgres

    database = f"tt_e2e_{uuid.uuid4().hex[:10]}"
    owner_url, app_url = provision_postgres(admin_url, database)
    cache_url = _redis_db(redis_url, redis_db)
    settings = {
        "TAILTRACKER_MIGRATION_DATABASE_URL": owner_url,
        "TAILTRACKER_DATABASE_URL": app_url,
        "TAILTRACKER_CACHE_URL": cache_url,
    }
    if files_url:  # the production shape: files in S3-compatible storage
        settings["TAILTRACKER_FILES_URL"] = files_url
    try:
        with _redis_to_ourselves(cache_url):
            process = _Process(tmp, settings, "postgres")
            try:
                process.migrate()
                process.start()
                yield process
            finally:
                process.stop()
    finally:
        _drop_database(admin_url, database)


@pytest.fixture(scope="session")
def _sqlite_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Process]:
    with _sqlite(tmp_path_factory.mktemp("e2e-sqlite")) as process:
        yield process


@pytest.fixture(scope="session")
def _postgres_process(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str, redis_url: str, s3_endpoint: str
) -> Iterator[_Process]:
    from tests.fixtures.storage import S3_ACCESS_KEY, S3_SECRET_KEY

    tmp = tmp_path_factory.mktemp("e2e-postgres")
    bucket = f"tt-e2e-{uuid.uuid4().hex[:12]}"
    files_url = f"s3://{S3_ACCESS_KEY}:{S3_SECRET_KEY}@{bucket}?endpoint_url={s3_endpoint}&create_bucket=1"
    with _postgres(tmp, postgres_admin_url, redis_url, E2E_REDIS_DB, files_url) as process:
        yield process


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.redis])],
)
def live_server(request: pytest.FixtureRequest) -> LiveServer:
    """The app over real HTTP, once on the embedded default and once on PostgreSQL + Redis
    (+ S3-compatible file storage: the moto server of tests/fixtures/storage.py)."""
    process: _Process = request.getfixturevalue(f"_{request.param}_process")
    return process.server()


@pytest.fixture(scope="session")
def fuzz_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server of its own for the fuzzer: the embedded default, or PostgreSQL + Redis (its own
    database, Redis database 13) with TAILTRACKER_FUZZ_BACKEND=postgres."""
    tmp = tmp_path_factory.mktemp("e2e-fuzz")
    if os.environ.get("TAILTRACKER_FUZZ_BACKEND", "sqlite") == "postgres":
        admin_url = request.getfixturevalue("postgres_admin_url")
        redis_url = request.getfixturevalue("redis_url")
        with _postgres(tmp, admin_url, redis_url, FUZZ_REDIS_DB) as process:
            yield process.server()
    else:
        with _sqlite(tmp) as process:
            yield process.server()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist with `--dist loadgroup`, all e2e tests go to one worker (one set of servers)."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("e2e"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the server log to the report of a failing test that used a live server."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, LiveServer):
            report.sections.append(
                (f"{value.backend} server log (last lines of {value.log})", value.log_tail())
            )
