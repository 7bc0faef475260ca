"""Engines by URL scheme: PostgreSQL through psycopg 3, SQLite tuned for many threads."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

__all__ = ["engine_for", "normalise_url"]

SQLITE_BUSY_TIMEOUT_S = 30.0


def normalise_url(url: str) -> URL:
    """`postgresql://` and `postgres://` mean psycopg 3; `sqlite:///path` a file (parent made)."""
    parsed = make_url(
        url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url
    )
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError(
                "use a SQLite file (sqlite:///path/to/file.db); in-memory SQLite is not supported"
            )
        return parsed.set(drivername="sqlite+pysqlite")
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}: use sqlite:// or postgresql://")


def engine_for(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, pool_size, echo)
    return create_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        # Prepared statements are reused per connection after a few executions (psycopg).
        connect_args={"prepare_threshold": 5},
    )


def _sqlite_engine(url: URL, pool_size: int, echo: bool) -> Engine:
    assert url.database is not None
    Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite would defer it).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: a deferred transaction that reads and then writes
        # fails at once with "database is locked" when another writer got in between.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
