"""`tailtracker scheduler` as an operator runs it: one pass with --once on the embedded default,
the loop stopped by SIGTERM, and bad settings refused with a message (never a traceback)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from adapters.sql import Database
from adapters.system import Uuid7Generator
from tailtracker_core.model.care import CareKind, CareSchedule
from tailtracker_core.model.cursors import care_next_fire_at
from tests.cli.test_cli import run


def _demo_with_a_dose_in_the_next_minute(tmp_path: Path) -> tuple[Database, list[str]]:
    assert run(tmp_path, "seed-demo").returncode == 0
    db = Database(f"sqlite:///{tmp_path}/var/db.sqlite")
    now = datetime.now(UTC)
    due = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    with db.uow_factory(None) as uow:
        owner = uow.users.get_by_email("demo@tailtracker.example")
        assert owner is not None
    with db.uow_factory(owner.id) as uow:
        family = uow.families.list_for_user(owner.id, None, 1)[0]
        pet = uow.pets.list([family.id], None, None, 1)[0]
        schedule = CareSchedule.create(
            Uuid7Generator().new_id(),
            pet.id,
            CareKind.MEDICATION,
            "Pill",
            "FREQ=DAILY",
            due.replace(tzinfo=None) - timedelta(days=1),
            "UTC",
        )
        uow.care_schedules.add(schedule, family.id, care_next_fire_at(schedule, now))
        uow.commit()
    return db, [str(m) for m in family.members]


def test_one_pass_turns_a_due_dose_into_a_reminder_for_every_member(tmp_path: Path) -> None:
    db, members = _demo_with_a_dose_in_the_next_minute(tmp_path)
    try:
        out = run(tmp_path, "scheduler", "--once", TAILTRACKER_CLOCK_OFFSET_SECONDS="60")
        assert out.returncode == 0, out.stderr
        assert "1 care schedules" in out.stderr + out.stdout
        engine = create_engine(f"sqlite:///{tmp_path}/var/db.sqlite")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT user_id, channel, status FROM deliveries")).all()
        assert sorted(str(r[0]).replace("-", "") for r in rows) == sorted(m.replace("-", "") for m in members)
        assert {(r[1], r[2]) for r in rows} == {("in_app", "queued")}
        # Again: nothing new.
        again = run(tmp_path, "scheduler", "--once", TAILTRACKER_CLOCK_OFFSET_SECONDS="60")
        assert again.returncode == 0
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM deliveries")).scalar() == len(rows)
        engine.dispose()
    finally:
        db.dispose()


def test_the_loop_stops_on_sigterm(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TAILTRACKER_")}
    environ.update(
        TAILTRACKER_VAR_DIR=str(tmp_path / "var"),
        TAILTRACKER_DATABASE_URL=f"sqlite:///{tmp_path}/var/db.sqlite",
        TAILTRACKER_EMAIL_URL=f"file://{tmp_path}/var/outbox",
        TAILTRACKER_SCHEDULER_INTERVAL_SECONDS="1",
    )
    log = tmp_path / "scheduler.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "scheduler"],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while "scheduler started" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "scheduler started" in log.read_text()
        time.sleep(1.5)  # a pass or two
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        text = log.read_text()
        assert "received SIGTERM" in text
        assert "scheduler stopped" in text
        assert "Traceback" not in text
    finally:
        if proc.poll() is None:
            proc.kill()


def test_bad_scheduler_settings_are_refused_with_a_message(tmp_path: Path) -> None:
    out = run(tmp_path, "scheduler", "--once", TAILTRACKER_SCHEDULER_INTERVAL_SECONDS="0")
    assert out.returncode == 2
    assert "TAILTRACKER_SCHEDULER_INTERVAL_SECONDS" in out.stderr
    assert "Traceback" not in out.stderr
    out = run(
        tmp_path,
        "scheduler",
        "--once",
        TAILTRACKER_ENV="production",
        TAILTRACKER_JWT_KEYS="k:" + "x" * 40,
        TAILTRACKER_CLOCK_OFFSET_SECONDS="60",
    )
    assert out.returncode == 2
    assert "TAILTRACKER_CLOCK_OFFSET_SECONDS" in out.stderr
    out = run(tmp_path, "scheduler", "--once", TAILTRACKER_QUEUE_PREFIX="bad prefix!")
    assert out.returncode == 2
    assert "TAILTRACKER_QUEUE_PREFIX" in out.stderr
