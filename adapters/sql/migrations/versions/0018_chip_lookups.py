"""Chip look-ups: a chipped animal is matched with its lost report wherever it turns up (D36).

A found report used to be matched only against the open reports the geo index finds within the
widest search radius, and a new lost report only against found reports within max(radius,
25 km). The core already scores a chip match as certain at any distance, but a pet found
beyond that circle (carried off in a car, picked up by a lorry driver, handed in at a shelter
in the next county) was never put in front of the rule. Two look-ups close the gap:

- `tt_open_report_ids_with_chip(chip, species, limit)`: ids of open lost reports whose pet
  carries the chip, for a newly filed found report;
- `tt_found_reports_with_chip(chip, species, seen_from, limit)`: found reports with the chip
  seen at or after `seen_from`, latest first, for a newly opened lost report.

Both cross families or reporters, like `tt_open_lost_reports` and `tt_found_report_candidates`
(0003): SECURITY DEFINER, search_path pinned, EXECUTE for the app role only. They return ids or
the found-report row the existing candidate path already returns, nothing more.

Indexes, partial (`microchip IS NOT NULL`, so unchipped rows cost nothing): `ix_pets_microchip`
and `ix_found_reports_microchip`, on both dialects. Chips are stored normalised (upper case, no
separators: `Microchip.parse`), so equality is the whole test.

Revision ID: 0018_chip_lookups
Revises: 0017_nearby_mercator
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.migrations.grants import grant_to_app_role

revision = "0018_chip_lookups"
down_revision = "0017_nearby_mercator"
branch_labels = None
depends_on = None

_SIGNATURES = (
    "tt_open_report_ids_with_chip(text, text, integer)",
    "tt_found_reports_with_chip(text, text, timestamptz, integer)",
)

_FUNCTIONS = """
CREATE FUNCTION tt_open_report_ids_with_chip(p_chip text, p_species text, p_limit integer)
RETURNS TABLE (id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT r.id FROM public.pets p JOIN public.lost_reports r ON r.pet_id = p.id
    WHERE p.microchip = p_chip AND p.species = p_species AND r.status = 'open'
    ORDER BY r.id
    LIMIT p_limit
$$;

CREATE FUNCTION tt_found_reports_with_chip(
    p_chip text, p_species text, p_from timestamptz, p_limit integer
) RETURNS SETOF public.found_reports
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT f.* FROM public.found_reports f
    WHERE f.microchip = p_chip AND f.species = p_species AND f.seen_at >= p_from
    ORDER BY f.seen_at DESC, f.id
    LIMIT p_limit
$$;
"""


def upgrade() -> None:
    for name, table in (("ix_pets_microchip", "pets"), ("ix_found_reports_microchip", "found_reports")):
        op.create_index(
            name,
            table,
            ["microchip"],
            sqlite_where=sa.text("microchip IS NOT NULL"),
            postgresql_where=sa.text("microchip IS NOT NULL"),
            if_not_exists=True,
        )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTIONS)
    for signature in _SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    grant_to_app_role(*(f"GRANT EXECUTE ON FUNCTION {s} TO {{role}}" for s in _SIGNATURES))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for signature in _SIGNATURES:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_index("ix_found_reports_microchip", table_name="found_reports")
    op.drop_index("ix_pets_microchip", table_name="pets")
