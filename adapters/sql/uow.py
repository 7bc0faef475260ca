"""The SQL unit of work: one connection, one transaction at a time, events to the outbox."""

from __future__ import annotations

from types import TracebackType
from typing import Self
from uuid import UUID

from sqlalchemy import Connection, Engine, text

from adapters.sql.alerts import SqlAlertLedger
from adapters.sql.calendar import SqlCalendarFeeds
from adapters.sql.care import SqlCareSchedules, SqlMedicalRecords, SqlVaccinations
from adapters.sql.files import SqlFiles
from adapters.sql.lost_found import SqlFoundReports, SqlLostReports, SqlMatches, SqlSightings
from adapters.sql.notifications import (
    SqlDeliveries,
    SqlEmailSuppressions,
    SqlNotificationPreferences,
    SqlNotifications,
)
from adapters.sql.reminders import SqlReminders
from adapters.sql.repositories import (
    SqlConsents,
    SqlErasures,
    SqlFamilies,
    SqlIdempotency,
    SqlInvitations,
    SqlPets,
    SqlSubscriptions,
    SqlUsers,
)
from adapters.sql.tables import outbox
from tailtracker_core.events import DomainEvent, event_to_json
from tailtracker_core.ports import Clock, IdGenerator

__all__ = ["SqlUnitOfWork"]

# Transaction-local (third argument true): it ends with the transaction, so a pooled
# connection never carries one user's identity into another's transaction.
_SET_ACTOR = text("SELECT set_config('tailtracker.user_id', :uid, true)")


class SqlUnitOfWork:
    """A UnitOfWork over SQLAlchemy Core.

    The connection is taken from the pool on first use and given back on exit; a
    transaction opens lazily on the first statement, so a unit of work that has committed
    can carry on with a new transaction.
    """

    def __init__(self, engine: Engine, actor: UUID | None, ids: IdGenerator, clock: Clock) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self.actor = actor
        self._ids = ids
        self._clock = clock
        self._connection: Connection | None = None
        self._events: list[DomainEvent] = []
        self.users = SqlUsers(self._conn)
        self.families = SqlFamilies(self._conn)
        self.invitations = SqlInvitations(self._conn)
        self.pets = SqlPets(self._conn)
        self.consents = SqlConsents(self._conn)
        self.subscriptions = SqlSubscriptions(self._conn)
        self.erasures = SqlErasures(self._conn)
        self.idempotency = SqlIdempotency(self._conn)
        self.lost_reports = SqlLostReports(self._conn)
        self.found_reports = SqlFoundReports(self._conn)
        self.sightings = SqlSightings(self._conn)
        self.matches = SqlMatches(self._conn)
        self.alert_ledger = SqlAlertLedger(self._conn)
        self.deliveries = SqlDeliveries(self._conn)
        self.notifications = SqlNotifications(self._conn)
        self.notification_preferences = SqlNotificationPreferences(self._conn)
        self.email_suppressions = SqlEmailSuppressions(self._conn)
        self.files = SqlFiles(self._conn)
        self.vaccinations = SqlVaccinations(self._conn)
        self.medical_records = SqlMedicalRecords(self._conn)
        self.care_schedules = SqlCareSchedules(self._conn)
        self.calendar_feeds = SqlCalendarFeeds(self._conn)
        self.reminders = SqlReminders(self._conn)

    def _conn(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        conn = self._connection
        if not conn.in_transaction():
            conn.begin()
            if self._postgres:
                conn.execute(_SET_ACTOR, {"uid": str(self.actor) if self.actor else ""})
        return conn

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    def commit(self) -> None:
        events, self._events = self._events, []
        if events:
            now = self._clock.now()
            rows = [
                {"id": self._ids.new_id(), "topic": e.topic, "payload": event_to_json(e), "created_at": now}
                for e in events
            ]
            self._conn().execute(outbox.insert(), rows)
        if self._connection is not None and self._connection.in_transaction():
            self._connection.commit()

    def rollback(self) -> None:
        self._events = []
        if self._connection is not None and self._connection.in_transaction():
            self._connection.rollback()
