"""`Database`: the SQL adapter's entry point, chosen by URL (sqlite:// or postgresql://)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import text

from adapters.sql.engine import engine_for
from adapters.sql.geo import SqlGeoIndex
from adapters.sql.outbox import SqlOutbox
from adapters.sql.uow import SqlUnitOfWork
from adapters.system import Uuid7Generator
from tailtracker_core.ports import Clock, IdGenerator

__all__ = ["Database"]


class Database:
    """A pooled engine; `uow_factory` is a UnitOfWorkFactory, `outbox()` an OutboxStore.

    `ids` and `clock` (for outbox rows) default to UUIDv7 ids and the system clock; the
    composition root may pass its own so the whole app shares one source of each.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        echo: bool = False,
        ids: IdGenerator | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._engine = engine_for(url, pool_size=pool_size, echo=echo)
        self._ids: IdGenerator = ids or Uuid7Generator()
        self._clock: Clock = clock or _UtcClock()

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._engine.dialect.name

    def uow_factory(self, actor: UUID | None) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engine, actor, self._ids, self._clock)

    def outbox(self) -> SqlOutbox:
        return SqlOutbox(self._engine)

    def geo_index(self) -> SqlGeoIndex:
        """The GeoIndex over this database (PostGIS on PostgreSQL, a bounding box on SQLite)."""
        return SqlGeoIndex(self._engine)

    def ping(self) -> None:
        """Raise when the database cannot answer."""
        with self._engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()

    def dispose(self) -> None:
        self._engine.dispose()


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
