"""How many SQL statements one fan-out batch and one delivery chunk cost on PostgreSQL (app
role, row-level security on). Both used to grow with their size (a consent history, a ledger
claim, a suppression check per user; a message and two or three transactions per delivery);
these bounds fail if a per-row query comes back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from entrypoints.bootstrap import Container, Settings, build
from tailtracker_core.events import DeliveriesDue, event_from_json
from tailtracker_core.model.accounts import User
from tailtracker_core.model.consent import ConsentMethod, ConsentRecord, Purpose
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.testing.lost_found_contract import arrange_family, arrange_pet
from tailtracker_core.usecases import lost_found
from tailtracker_core.usecases.lost_alerts import alert_batch
from tailtracker_core.usecases.notifications import deliver_batch
from tests.fixtures.sql import PostgresDatabase

pytestmark = [pytest.mark.postgres]

HOME = GeoPoint(52.52, 13.405)
CANDIDATES = 500


@pytest.fixture
def container(postgres_database: PostgresDatabase, tmp_path: Path) -> Iterator[Container]:
    postgres_database.truncate()
    settings = Settings(
        database_url=postgres_database.app_url,
        var_dir=str(tmp_path / "var"),
        email_url=f"file://{tmp_path / 'outbox'}",
        embedded_worker=False,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    built = build(settings)
    yield built
    built.close()


class Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append(statement)


@pytest.fixture
def statements() -> Iterator[Statements]:
    counter = Statements()
    event.listen(Engine, "before_cursor_execute", counter)
    yield counter
    event.remove(Engine, "before_cursor_execute", counter)


def _neighbours(container: Container, n: int) -> list[User]:
    deps = container.deps
    now = deps.clock.now()
    users = [
        User(
            deps.ids.new_id(),
            f"n{i}-{deps.ids.new_id().hex[:8]}@example.org",
            f"N{i}",
            "x",
            now,
            alert_lat=HOME.lat + 0.00005 * i,  # within 2.5 km
            alert_lon=HOME.lon,
            alert_radius_km=5,
        )
        for i in range(n)
    ]
    with deps.uow(None) as uow:
        for i, u in enumerate(users):
            uow.users.add(u)
            granted = i % 10 != 0  # every tenth never asked: a candidate, not a recipient
            if granted:
                uow.consents.add(
                    ConsentRecord.record(
                        deps.ids.new_id(),
                        u.id,
                        Purpose.LOCATION_ALERTS,
                        True,
                        "2026-01",
                        now,
                        ConsentMethod.APP,
                    )
                )
        uow.commit()
    return users


def test_one_batch_of_500_candidates_and_its_delivery_chunks_take_a_bounded_number_of_statements(
    container: Container, statements: Statements
) -> None:
    deps = container.deps
    _neighbours(container, CANDIDATES)
    owner = User(
        deps.ids.new_id(), f"owner-{deps.ids.new_id().hex[:8]}@example.org", "O", "x", deps.clock.now()
    )
    with deps.uow(owner.id) as uow:
        uow.users.add(owner)
        uow.commit()
    pet = arrange_pet(deps.uow, owner, arrange_family(deps.uow, owner), name="Pepper")
    report = lost_found.open_lost_report(
        deps, owner.id, pet.id, datetime.now(UTC) - timedelta(hours=1), HOME, 5.0
    )

    statements.seen.clear()
    result = alert_batch(deps, report.id, None, CANDIDATES)
    batch_statements = list(statements.seen)
    assert (result.candidates, result.alerted) == (CANDIDATES, CANDIDATES - CANDIDATES // 10)
    # 450 alerts, 900 deliveries: 17 statements whatever the batch size (1,347 before the batched
    # look-ups). The delivery chunk: 11 (three transactions' worth of a message per delivery before).
    assert len(batch_statements) <= 17, "\n".join(s[:120] for s in batch_statements)

    # The deliveries went to the outbox as chunks, one event each (not one per delivery).
    chunks = [m for m in container.outbox.claim(1000) if m.topic == "deliveries.due"]
    container.outbox.release()
    assert len(chunks) == 4  # 900 deliveries, chunks of 250
    first = event_from_json("deliveries.due", chunks[0].payload)
    assert isinstance(first, DeliveriesDue)
    statements.seen.clear()
    delivered = deliver_batch(container.handlers.deliverer, list(first.delivery_ids))
    chunk_statements = list(statements.seen)
    assert len(delivered.outcomes) == 250
    assert {o.value for o in delivered.outcomes.values()} == {"sent"}
    assert len(chunk_statements) <= 11, "\n".join(s[:120] for s in chunk_statements)
