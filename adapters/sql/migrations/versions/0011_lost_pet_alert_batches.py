"""Lost-pet alerts in batches: `tt_claim_lost_pet_alerts`, the ledger claim of many users of
one report in one call (the fan-out's batch of up to 500), same rules as
`tt_claim_lost_pet_alert` (0007).

Revision ID: 0011_lost_pet_alert_batches
Revises: 0010_care
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

from alembic import context, op

revision = "0011_lost_pet_alert_batches"
down_revision = "0010_care"
branch_labels = None
depends_on = None

_SIGNATURE = "tt_claim_lost_pet_alerts(uuid[], date[], uuid, integer, timestamptz)"

# Users are claimed in id order (advisory locks always taken in the same order, so two
# batches sharing users cannot deadlock); each claim is tt_claim_lost_pet_alert's rule.
_FUNCTION = """
CREATE FUNCTION tt_claim_lost_pet_alerts(
    p_users uuid[], p_days date[], p_report uuid, p_cap integer, p_now timestamptz
) RETURNS SETOF uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT u.user_id, u.day
             FROM unnest(p_users, p_days) AS u(user_id, day)
             ORDER BY u.user_id
    LOOP
        IF public.tt_claim_lost_pet_alert(c.user_id, p_report, c.day, p_cap, p_now) THEN
            RETURN NEXT c.user_id;
        END IF;
    END LOOP;
END
$$;
"""


def _app_role() -> str:
    role = context.config.attributes.get("app_role") or context.get_x_argument(as_dictionary=True).get(
        "app_role", "tailtracker_app"
    )
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    return str(role)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    app_role = _app_role()
    op.execute(_FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {_SIGNATURE} FROM PUBLIC")
    grant = f"GRANT EXECUTE ON FUNCTION {_SIGNATURE} TO {app_role}"
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_quote(app_role)}) "
        f"THEN EXECUTE {_quote(grant)}; ELSE RAISE NOTICE 'role % does not exist: no grants', "
        f"{_quote(app_role)}; END IF; END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_SIGNATURE}")
