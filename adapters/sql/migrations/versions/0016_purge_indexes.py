"""Indexes for `tailtracker purge`: sent outbox rows by sent_at, idempotency keys by created_at.

`tailtracker purge` (usecases/housekeeping.py, docs/decisions.md D34) deletes sent outbox rows
older than the retention and idempotency records older than their 24 h TTL, 1,000 rows a
transaction until a batch comes back short. Each batch picks its victims with
`... WHERE sent_at < :before ORDER BY sent_at LIMIT n` (outbox) or `created_at < :before`
(idempotency_keys). Without an index each batch would scan the whole table, which is exactly
the table that grows (a daily purge of a million rows would read the table a thousand times);
with one, a batch reads n index entries from the old end.

- `ix_outbox_sent` is partial (`WHERE sent_at IS NOT NULL`): the unsent rows the relay works on
  already have `ix_outbox_unsent`, and a row enters this index once, when it is marked sent.
  The cost is one index insert per mark_sent, on a relay that is not latency-bound.
- `ix_idempotency_keys_created_at`: one more index insert per idempotent POST (the primary key
  is (user_id, key), which cannot serve a range over every user's created_at).

Plain CREATE INDEX (not CONCURRENTLY): migrations run in one transaction under an advisory lock
(migrations/env.py). It blocks writes to the two tables while it builds, a few seconds for a
million rows; run it with the deploy, before the backlog of sent rows is large, or build the
indexes CONCURRENTLY by hand first (same names; this migration then finds them and skips).

Revision ID: 0016_purge_indexes
Revises: 0015_nearby_public_reports
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_purge_indexes"
down_revision = "0015_nearby_public_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_sent",
        "outbox",
        ["sent_at"],
        sqlite_where=sa.text("sent_at IS NOT NULL"),
        postgresql_where=sa.text("sent_at IS NOT NULL"),
        if_not_exists=True,
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_index("ix_outbox_sent", table_name="outbox")
