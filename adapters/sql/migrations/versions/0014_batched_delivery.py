"""Batched notification delivery on PostgreSQL (docs/notifications.md, "Batched delivery"):
the three cross-user steps of `deliver_batch`, each one statement for a whole chunk.

- `tt_lock_deliveries(ids)`: the chunk's deliveries of any users, locked (FOR UPDATE, in id
  order, so two workers holding overlapping chunks cannot deadlock) until the caller's
  transaction ends;
- `tt_save_deliveries(rows)`: writes the state columns only (status, attempts, last_error,
  sent_at, lease_until, version) of deliveries whose stored version is one below the given
  one (optimistic, like the single path's save); returns the ids written;
- `tt_insert_notifications(rows)`: in-app notifications, each only for an existing in-app
  delivery of the same user, ON CONFLICT (delivery_id) DO NOTHING; returns the delivery ids
  that went in.

Under row-level security the app role sees and changes only the acting user's deliveries and
notifications; these functions run as the owner (search_path pinned, EXECUTE for the app role
only), like `tt_queue_due_deliveries` and `tt_insert_deliveries`.

Revision ID: 0014_batched_delivery
Revises: 0013_reminders
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from adapters.sql.migrations.grants import grant_to_app_role

revision = "0014_batched_delivery"
down_revision = "0013_reminders"
branch_labels = None
depends_on = None

_SIGNATURES = (
    "tt_lock_deliveries(uuid[])",
    "tt_save_deliveries(jsonb)",
    "tt_insert_notifications(jsonb)",
)

_FUNCTIONS = """
CREATE FUNCTION tt_lock_deliveries(p_ids uuid[]) RETURNS SETOF public.deliveries
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT * FROM public.deliveries WHERE id = ANY(p_ids) ORDER BY id FOR UPDATE
$$;

CREATE FUNCTION tt_save_deliveries(p_rows jsonb) RETURNS SETOF uuid
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE public.deliveries d
    SET status = r.status, attempts = r.attempts, last_error = r.last_error,
        sent_at = r.sent_at, lease_until = r.lease_until, version = r.version
    FROM jsonb_to_recordset(p_rows) AS r(
        id uuid, status varchar, attempts integer, last_error text, sent_at timestamptz,
        lease_until timestamptz, version integer)
    WHERE d.id = r.id AND d.version = r.version - 1
    RETURNING d.id
$$;

CREATE FUNCTION tt_insert_notifications(p_rows jsonb) RETURNS SETOF uuid
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.notifications
    SELECT n.* FROM jsonb_populate_recordset(NULL::public.notifications, p_rows) AS n
    JOIN public.deliveries d
      ON d.id = n.delivery_id AND d.user_id = n.user_id AND d.channel = 'in_app'
    ON CONFLICT (delivery_id) DO NOTHING
    RETURNING delivery_id
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTIONS)
    for signature in _SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    grant_to_app_role(*(f"GRANT EXECUTE ON FUNCTION {signature} TO {{role}}" for signature in _SIGNATURES))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for signature in _SIGNATURES:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
