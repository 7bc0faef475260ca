"""The lost-pet alert fan-out through RabbitMQ and PostgreSQL with a real worker process that
is killed in the middle of the fan-out and started again: every consenting recipient ends
with exactly one alert (one in-app notification, one email), nobody else gets one.

The worker runs `entrypoints.worker.run_worker` in a subprocess on queues of this test's own
(RabbitMQ is shared with other test runs), with the outbox relay inside it, batches of 5 users
and a pause before each next batch is queued, so that the SIGKILL lands after the first batch
committed and before its message was acknowledged: RabbitMQ redelivers that message to the
second worker, which re-runs the batch (its ledger claims exist, so it alerts nobody twice)
and carries on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from entrypoints.bootstrap import Container, Settings, build
from tailtracker_core.model.accounts import User
from tailtracker_core.model.consent import ConsentMethod, Purpose
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.testing.lost_found_contract import arrange_family, arrange_pet
from tailtracker_core.usecases import consents, lost_found
from tailtracker_core.usecases.accounts import ProfileChanges, update_profile
from tests.fixtures.messaging import delete_rabbitmq_queues
from tests.fixtures.sql import PostgresDatabase

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CONSENTING, SILENT, BATCH = 17, 3, 5
HOME = GeoPoint(48.8566, 2.3522)

_WORKER = """
import sys
from adapters.queue import DramatiqPublisher
from entrypoints.bootstrap import Settings, build, configure_logging
from entrypoints.worker import run_worker
events_queue, notification_queue = sys.argv[1], sys.argv[2]
settings = Settings.from_env()
configure_logging(settings)
container = build(settings)
publisher = DramatiqPublisher(container.broker, queue_name=events_queue)
run_worker(
    container.broker, container.handlers, threads=2,
    relay=(container.outbox, publisher, container.deps.clock),
    queue_name=events_queue, notification_queue_name=notification_queue,
)
"""


def _settings(db: PostgresDatabase, amqp_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    return {
        "TAILTRACKER_DATABASE_URL": db.app_url,
        "TAILTRACKER_BROKER_URL": amqp_url,
        "TAILTRACKER_CACHE_URL": "memory://",
        "TAILTRACKER_EMAIL_URL": f"file://{tmp / 'outbox'}",
        "TAILTRACKER_VAR_DIR": str(tmp / "var"),
        "TAILTRACKER_ALERT_BATCH_SIZE": str(BATCH),
        "TAILTRACKER_NOTIFICATION_MIN_BACKOFF_MS": "100",
        "TAILTRACKER_NOTIFICATION_MAX_BACKOFF_MS": "1000",
        **extra,
    }


def _start_worker(env: dict[str, str], queues: tuple[str, str], log: Path) -> subprocess.Popen[bytes]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("TAILTRACKER_")}
    full.update(env)
    full["PYTHONUNBUFFERED"] = "1"
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", _WORKER, *queues],
            cwd=REPO,
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait(predicate: Any, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(
                f"timed out waiting for {what}; worker log:\n{log.read_text(errors='replace')[-6000:]}"
            )
        time.sleep(0.05)


@pytest.fixture
def queues(amqp_url: str, unique_queue_name: str) -> Iterator[tuple[str, str]]:
    names = (f"{unique_queue_name}-events", f"{unique_queue_name}-notifications")
    yield names
    for name in names:
        delete_rabbitmq_queues(amqp_url, name)


@pytest.fixture
def arranged(postgres_database: PostgresDatabase, tmp_path: Path) -> Iterator[Container]:
    postgres_database.truncate()
    settings = Settings(
        database_url=postgres_database.app_url,
        var_dir=str(tmp_path / "var"),
        embedded_worker=False,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    container = build(settings)
    yield container
    container.close()


def _user(container: Container, n: int, *, consent: bool) -> User:
    deps = container.deps
    user = User(
        deps.ids.new_id(), f"n{n}-{deps.ids.new_id().hex[:8]}@example.org", f"N{n}", "x", deps.clock.now()
    )
    with deps.uow(user.id) as uow:
        uow.users.add(user)
        uow.commit()
    if consent:
        consents.set_consent(deps, user.id, Purpose.LOCATION_ALERTS, True, "2026-01", ConsentMethod.APP)
    where = (HOME.lat + 0.001 * n, HOME.lon)  # 0.1 km apart, all within 5 km
    update_profile(deps, user.id, ProfileChanges(alert_location=where, alert_radius_km=5))
    return user


def test_a_worker_killed_during_the_fan_out_neither_loses_nor_duplicates_an_alert(
    arranged: Container,
    postgres_database: PostgresDatabase,
    amqp_url: str,
    queues: tuple[str, str],
    tmp_path: Path,
) -> None:
    deps = arranged.deps
    consenting = [_user(arranged, n, consent=True) for n in range(CONSENTING)]
    silent = [_user(arranged, CONSENTING + n, consent=False) for n in range(SILENT)]
    owner = _user(arranged, 99, consent=True)
    pet = arrange_pet(deps.uow, owner, arrange_family(deps.uow, owner), name="Pepper")
    report = lost_found.open_lost_report(
        deps, owner.id, pet.id, datetime.now(UTC) - timedelta(hours=1), HOME, 5.0
    )

    owner_db = create_engine(postgres_database.owner_url)
    log = tmp_path / "worker.log"

    def ledger() -> int:
        with owner_db.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM lost_pet_alert_ledger")).scalar_one())

    def per_user(sql: str) -> dict[str, int]:
        with owner_db.connect() as conn:
            return {str(r[0]): int(r[1]) for r in conn.execute(text(sql))}

    first = _start_worker(
        _settings(postgres_database, amqp_url, tmp_path, TAILTRACKER_ALERT_BATCH_PAUSE_MS="4000"), queues, log
    )
    try:
        _wait(lambda: ledger() >= BATCH, 60, "the first batch", log)
        os.killpg(first.pid, signal.SIGKILL)  # mid-fan-out: batch 1 committed, its message not acknowledged
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
    assert ledger() == BATCH  # the kill came before the second batch ran

    second = _start_worker(_settings(postgres_database, amqp_url, tmp_path), queues, log)
    try:
        recipients = {str(u.id) for u in consenting}

        def all_sent() -> bool:
            sent = per_user(
                "SELECT user_id, count(*) FROM deliveries WHERE category = 'lost_pet_alert' "
                "AND status = 'sent' GROUP BY user_id"
            )
            return set(sent) == recipients and all(n == 2 for n in sent.values())

        _wait(all_sent, 90, "every alert to be sent", log)
        time.sleep(1.5)  # let any duplicate a redelivery might cause show up
        alerts = per_user(
            "SELECT user_id, count(*) FROM notifications WHERE category = 'lost_pet_alert' GROUP BY user_id"
        )
        assert alerts == dict.fromkeys(recipients, 1)
        deliveries = per_user(
            "SELECT user_id, count(*) FROM deliveries WHERE category = 'lost_pet_alert' GROUP BY user_id"
        )
        assert deliveries == dict.fromkeys(recipients, 2)  # in-app and email, once each
        assert ledger() == CONSENTING
        emails = [p.read_text(errors="replace") for p in (tmp_path / "outbox").glob("*.eml")]
        for user in consenting:
            assert sum(user.email in e for e in emails) == 1, user.email
        for user in [*silent, owner]:
            assert not any(user.email in e for e in emails)
        text_log = log.read_text()
        assert "fan-out done" in text_log
        # The first batch ran twice: once before the kill, once redelivered (alerting nobody).
        first_batch = f"lost report {report.id}: alert batch after None: {BATCH} candidates"
        assert text_log.count(f"{first_batch}, {BATCH} alerted") == 1, text_log[-4000:]
        assert text_log.count(f"{first_batch}, 0 alerted") == 1, text_log[-4000:]
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait(timeout=10)
        owner_db.dispose()
