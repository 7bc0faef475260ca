"""Batched delivery (`deliver_notifications`, one message per chunk of a fan-out's deliveries)
through RabbitMQ, PostgreSQL (app role, row-level security) and a real SMTP server (aiosmtpd),
with real worker processes (`entrypoints.worker.run_worker`, as in the alert fan-out test):

- a worker SIGKILLed in the middle of a chunk, while the SMTP server holds its first email:
  RabbitMQ redelivers the chunk to a second worker; every recipient still gets exactly one
  in-app notification and one email (the in-app items of the chunk were committed before
  the kill and are not written again; the emails whose lease the dead worker held follow the
  single path's rule and go out once its lease is over);
- one address the server defers (451) is retried alone, through the single delivery actor
  with backoff: the others of the chunk are sent once and not again.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from entrypoints.bootstrap import Container
from tailtracker_core.model.accounts import User
from tailtracker_core.testing.lost_found_contract import arrange_family, arrange_pet
from tailtracker_core.usecases import lost_found
from tests.fixtures.messaging import StallingSmtpHandler
from tests.fixtures.sql import PostgresDatabase
from tests.integration import test_alert_fan_out_rabbitmq as fan_out
from tests.integration.test_alert_fan_out_rabbitmq import HOME, _settings, _start_worker, _user, _wait

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.slow]

RECIPIENTS = 6
arranged = fan_out.arranged  # fixtures: a container on a truncated PostgreSQL, the test's queues
queues = fan_out.queues


@pytest.fixture
def smtp(stalling_smtp: tuple[int, StallingSmtpHandler]) -> tuple[int, StallingSmtpHandler]:
    """The stalling SMTP server, not stalling until a test asks (`stall_first`)."""
    stalling_smtp[1].stall_first = False
    return stalling_smtp


def _open_report(container: Container) -> tuple[list[User], Any]:
    deps = container.deps
    neighbours = [_user(container, n, consent=True) for n in range(RECIPIENTS)]
    owner = _user(container, 99, consent=False)
    pet = arrange_pet(deps.uow, owner, arrange_family(deps.uow, owner), name="Pepper")
    report = lost_found.open_lost_report(deps, owner.id, pet.id, deps.clock.now(), HOME, 5.0)
    return neighbours, report


def _env(db: PostgresDatabase, amqp_url: str, tmp: Path, smtp_port: int, lease: int) -> dict[str, str]:
    return _settings(
        db,
        amqp_url,
        tmp,
        TAILTRACKER_ALERT_BATCH_SIZE="500",  # one fan-out batch: one chunk of 12 deliveries
        TAILTRACKER_EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}?from=alerts@tailtracker.example&timeout=30",
        TAILTRACKER_NOTIFICATION_LEASE_SECONDS=str(lease),
        TAILTRACKER_LOG_LEVEL="INFO",
    )


def _stop(proc: Any) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except Exception:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


class Rows:
    def __init__(self, db: PostgresDatabase) -> None:
        self.engine = create_engine(db.owner_url)

    def per_user(self, sql: str) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {str(r[0]): int(r[1]) for r in conn.execute(text(sql))}

    def rows(self, sql: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql)))


def _all_sent(rows: Rows, users: list[User]) -> bool:
    sent = rows.per_user(
        "SELECT user_id, count(*) FROM deliveries WHERE category = 'lost_pet_alert' AND status = 'sent' "
        "GROUP BY user_id"
    )
    return sent == {str(u.id): 2 for u in users}


def _exactly_once(rows: Rows, users: list[User], smtp: StallingSmtpHandler) -> None:
    ids = {str(u.id) for u in users}
    assert rows.per_user(
        "SELECT user_id, count(*) FROM notifications WHERE category = 'lost_pet_alert' GROUP BY user_id"
    ) == dict.fromkeys(ids, 1)
    assert rows.per_user(
        "SELECT user_id, count(*) FROM deliveries WHERE category = 'lost_pet_alert' GROUP BY user_id"
    ) == dict.fromkeys(ids, 2)
    received = sorted(str(m["To"]) for m in smtp.messages)
    assert received == sorted(u.email for u in users)


def test_a_worker_killed_mid_chunk_neither_loses_nor_duplicates_a_delivery(
    arranged: Container,
    postgres_database: PostgresDatabase,
    amqp_url: str,
    queues: tuple[str, str],
    smtp: tuple[int, StallingSmtpHandler],
    tmp_path: Path,
) -> None:
    port, server = smtp
    server.stall_first = True
    users, _ = _open_report(arranged)
    rows = Rows(postgres_database)
    log = tmp_path / "worker.log"
    env = _env(postgres_database, amqp_url, tmp_path, port, lease=6)
    first = _start_worker(env, queues, log)
    try:
        _wait(server.stalled.is_set, 60, "the chunk's first email to reach the SMTP server", log)
        # Step 1 of the chunk is committed: every in-app item is stored and sent, every email
        # leased; the worker is now inside the SMTP conversation of the first email.
        leased = rows.rows(
            "SELECT channel, status, lease_until IS NOT NULL, attempts FROM deliveries "
            "WHERE category = 'lost_pet_alert' ORDER BY channel"
        )
        assert sorted(set(leased)) == [("email", "queued", True, 1), ("in_app", "sent", False, 1)]
        assert len(leased) == 2 * RECIPIENTS
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
    server.release.set()  # the dead worker's message is refused (451): nobody got it
    assert server.messages == []

    second = _start_worker(env, queues, log)
    try:
        _wait(lambda: _all_sent(rows, users), 90, "every delivery to be sent", log)
        time.sleep(1.5)  # let a duplicate that a redelivery might cause show up
        _exactly_once(rows, users, server)
        # The redelivered chunk found its in-app items done (not written again) and handed the
        # emails the dead worker had leased to the single path (or, once the lease was over,
        # sent them itself).
        assert "delivery batch of 12: already_done 6, " in log.read_text()
    finally:
        _stop(second)
        rows.engine.dispose()


def test_one_deferred_address_in_a_chunk_is_retried_alone(
    arranged: Container,
    postgres_database: PostgresDatabase,
    amqp_url: str,
    queues: tuple[str, str],
    smtp: tuple[int, StallingSmtpHandler],
    tmp_path: Path,
) -> None:
    port, server = smtp
    users, _ = _open_report(arranged)
    busy = users[2]
    server.defer_next[busy.email] = 1
    rows = Rows(postgres_database)
    log = tmp_path / "worker.log"
    worker = _start_worker(_env(postgres_database, amqp_url, tmp_path, port, lease=60), queues, log)
    try:
        _wait(lambda: _all_sent(rows, users), 90, "every delivery to be sent", log)
        time.sleep(1.0)
        _exactly_once(rows, users, server)
        attempts = {
            (str(r[0]), r[1]): (r[2], r[3])
            for r in rows.rows(
                "SELECT user_id, channel, attempts, last_error FROM deliveries "
                "WHERE category = 'lost_pet_alert'"
            )
        }
        for u in users:
            tries, error = attempts[(str(u.id), "email")]
            if u is busy:
                assert tries == 2 and "451" in (error or ""), (tries, error)
            else:
                assert (tries, error) == (1, None)
            assert attempts[(str(u.id), "in_app")] == (1, None)
        text_log = log.read_text()
        assert "delivery batch of 12: retrying 1, sent 11" in text_log, text_log[-4000:]
    finally:
        _stop(worker)
        rows.engine.dispose()
