"""The SQL adapter: SQLite (embedded default) and PostgreSQL with row-level security.

    db = Database("postgresql://tailtracker_app@host/tailtracker")
    deps = Deps(uow=db.uow_factory, ...)       # a UnitOfWorkFactory
    relay_once(db.outbox(), publisher, clock)  # an OutboxStore

Schema changes go through `migrate(url)` (Alembic, as the owner role on PostgreSQL);
`provision_postgres` creates the roles and the database. See docs/adapters-sql.md.
"""

from adapters.sql.database import Database
from adapters.sql.migrate import DEFAULT_APP_ROLE, migrate
from adapters.sql.outbox import SqlOutbox
from adapters.sql.roles import provision_postgres
from adapters.sql.uow import SqlUnitOfWork

__all__ = ["DEFAULT_APP_ROLE", "Database", "SqlOutbox", "SqlUnitOfWork", "migrate", "provision_postgres"]
