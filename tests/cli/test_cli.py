"""The `tailtracker` command as a newcomer runs it: real processes, a SQLite file per test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(tmp_path: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TAILTRACKER_")}
    environ.update(
        TAILTRACKER_VAR_DIR=str(tmp_path / "var"),
        TAILTRACKER_DATABASE_URL=f"sqlite:///{tmp_path}/var/db.sqlite",
        TAILTRACKER_EMAIL_URL=f"file://{tmp_path}/var/outbox",
        TAILTRACKER_ARGON2_TIME_COST="1",
        TAILTRACKER_ARGON2_MEMORY_KIB="1024",
    )
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )


def test_help_names_every_command(tmp_path):
    out = run(tmp_path, "--help")
    assert out.returncode == 0
    for command in (
        "serve",
        "worker",
        "relay",
        "migrate",
        "seed-demo",
        "create-user",
        "sweep-files",
        "purge",
    ):
        assert command in out.stdout


def test_migrate_then_seed_demo_is_idempotent(tmp_path):
    assert run(tmp_path, "migrate").returncode == 0
    first = run(tmp_path, "seed-demo")
    assert first.returncode == 0, first.stderr
    assert "demo data created" in first.stdout
    again = run(tmp_path, "seed-demo")
    assert again.returncode == 0
    assert "already there" in again.stdout


def test_create_user_on_a_fresh_database_and_refuses_a_duplicate(tmp_path):
    made = run(
        tmp_path,
        "create-user",
        "--email",
        "ada@example.org",
        "--display-name",
        "Ada",
        "--password-stdin",
        "--tier",
        "premium",
        stdin="a good long password\n",
    )
    assert made.returncode == 0, made.stderr
    assert "premium tier" in made.stdout
    twice = run(
        tmp_path,
        "create-user",
        "--email",
        "ADA@example.org",
        "--display-name",
        "Ada",
        "--password-stdin",
        stdin="a good long password\n",
    )
    assert twice.returncode == 1
    assert "already exists" in twice.stderr
    assert "Traceback" not in twice.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "env", "message"),
    [
        (
            ("create-user", "--email", "x@example.org", "--display-name", "X", "--password-stdin"),
            "short\n",
            {},
            "at least 12 characters",
        ),
        (("migrate",), "", {"TAILTRACKER_DATABASE_URL": "nope"}, "must be a URL"),
        (("migrate",), "", {"TAILTRACKER_DATABASE_POOL_SIZE": "many"}, "whole number"),
        (("seed-demo",), "", {"TAILTRACKER_CACHE_URL": "memcached://x"}, "use memory:// or redis://"),
    ],
)
def test_bad_input_is_a_clear_error_not_a_traceback(tmp_path, args, stdin, env, message):
    out = run(tmp_path, *args, stdin=stdin, **env)
    assert out.returncode in (1, 2)
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_sweep_files_deletes_orphans_older_than_the_grace(tmp_path):
    import time

    assert run(tmp_path, "migrate").returncode == 0
    orphan = tmp_path / "var" / "files" / "families" / "0190b6a4-0000-7000-8000-000000000001" / "pets"
    orphan = orphan / "0190b6a4-0000-7000-8000-000000000002" / "0190b6a4-0000-7000-8000-000000000003"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a crashed upload")
    fresh = orphan.with_name("0190b6a4-0000-7000-8000-000000000004")
    fresh.write_bytes(b"an upload in flight")
    hour_ago = time.time() - 3600 - 60
    os.utime(orphan, (hour_ago, hour_ago))
    out = run(tmp_path, "sweep-files")
    assert out.returncode == 0, out.stderr
    assert "deleted 1 orphaned blobs" in out.stdout
    assert not orphan.exists() and fresh.exists()


def test_purge_deletes_old_sent_outbox_rows_and_expired_idempotency_keys(tmp_path):
    from datetime import UTC, datetime, timedelta
    from uuid import uuid4

    from sqlalchemy import create_engine, select

    from adapters.sql.tables import idempotency_keys, outbox

    assert run(tmp_path, "migrate").returncode == 0
    now = datetime.now(UTC)
    engine = create_engine(f"sqlite:///{tmp_path}/var/db.sqlite")
    rows = {  # payload -> (created, sent)
        "sent long ago": (now - timedelta(days=30), now - timedelta(days=30)),
        "sent 3 days ago": (now - timedelta(days=3), now - timedelta(days=3)),
        "never sent": (now - timedelta(days=30), None),
    }
    keys = {"expired": now - timedelta(hours=25), "fresh": now - timedelta(hours=1)}
    with engine.begin() as conn:
        for payload, (created, sent) in rows.items():
            conn.execute(
                outbox.insert().values(
                    id=uuid4(), topic="t", payload=payload, created_at=created, sent_at=sent
                )
            )
        for key, made in keys.items():
            conn.execute(
                idempotency_keys.insert().values(
                    user_id=uuid4(),
                    key=key,
                    fingerprint="f",
                    status=201,
                    body=b"",
                    headers="{}",
                    created_at=made,
                )
            )

    def left() -> tuple[set[str], set[str]]:
        with engine.connect() as conn:
            return (
                set(conn.execute(select(outbox.c.payload)).scalars()),
                set(conn.execute(select(idempotency_keys.c.key)).scalars()),
            )

    out = run(tmp_path, "purge")
    assert out.returncode == 0, out.stderr
    assert "deleted 1 sent outbox messages older than 7 days and 1 expired idempotency keys" in out.stdout
    assert left() == ({"sent 3 days ago", "never sent"}, {"fresh"})
    out = run(tmp_path, "purge", TAILTRACKER_OUTBOX_RETENTION_DAYS="2", TAILTRACKER_PURGE_BATCH="1")
    assert out.returncode == 0, out.stderr
    assert "deleted 1 sent outbox messages older than 2 days and 0 expired" in out.stdout
    assert left() == ({"never sent"}, {"fresh"})
    engine.dispose()


def test_purge_refuses_a_negative_retention(tmp_path):
    out = run(tmp_path, "purge", TAILTRACKER_OUTBOX_RETENTION_DAYS="-1")
    assert out.returncode == 2
    assert "TAILTRACKER_OUTBOX_RETENTION_DAYS must be 0..3650" in out.stderr
    assert "Traceback" not in out.stderr
