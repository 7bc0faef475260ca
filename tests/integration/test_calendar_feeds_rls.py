"""Row-level security of `calendar_feeds` on PostgreSQL, as the app role, in raw SQL with no
filter: a user sees and changes only their own feeds in families they belong to; nobody (a
calendar app) sees no row, and finds a feed only through the SECURITY DEFINER look-up by hash."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from sqlalchemy import text

from adapters.sql import Database
from adapters.system import Uuid7Generator
from tailtracker_core.model.accounts import User
from tailtracker_core.model.calendar import CalendarFeed
from tailtracker_core.model.families import Family
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.model.roles import Role
from tailtracker_core.usecases.deps import hash_token

pytestmark = pytest.mark.postgres
ids = Uuid7Generator()


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def world(postgres_db: Database) -> dict[str, object]:
    alice, bob, eve = (
        User(ids.new_id(), f"{n}-{ids.new_id().hex}@example.org", n, "h", _now()) for n in "abe"
    )
    for u in (alice, bob, eve):
        with postgres_db.uow_factory(u.id) as uow:
            uow.users.add(u)
            uow.commit()
    family = Family.found(ids.new_id(), "Home", alice.id, _now())
    family.join(bob.id, Role.VIEWER, _now())
    pet = Pet(ids.new_id(), family.id, "Rex", Species.DOG, Sex.MALE, _now(), _now())
    feeds = {}
    with postgres_db.uow_factory(alice.id) as uow:
        uow.families.add(family)
        uow.pets.add(pet)
        uow.commit()
    for who in (alice, bob):
        feed = CalendarFeed.issue(ids.new_id(), family.id, pet.id, hash_token(f"t-{who.id}"), who.id, _now())
        with postgres_db.uow_factory(who.id) as uow:
            uow.calendar_feeds.add(feed)
            uow.commit()
        feeds[who.display_name] = feed
    return {"alice": alice, "bob": bob, "eve": eve, "family": family, "pet": pet, "feeds": feeds}


def _visible(db: Database, actor: UUID | None) -> set[UUID]:
    with db.uow_factory(actor) as uow:
        conn = uow.calendar_feeds._conn()  # the unit of work's connection, actor set
        return {r[0] for r in conn.execute(text("SELECT id FROM calendar_feeds"))}


def test_each_user_sees_only_their_own_feeds(postgres_db, world):
    feeds = world["feeds"]
    assert _visible(postgres_db, world["alice"].id) == {feeds["a"].id}
    assert _visible(postgres_db, world["bob"].id) == {feeds["b"].id}  # a viewer: their own only
    assert _visible(postgres_db, world["eve"].id) == set()  # an outsider
    assert _visible(postgres_db, None) == set()  # nobody signed in


def test_nobody_finds_a_feed_only_by_its_hash(postgres_db, world):
    with postgres_db.uow_factory(None) as uow:
        found = uow.calendar_feeds.find_by_token_hash(hash_token(f"t-{world['alice'].id}"))
    assert found == world["feeds"]["a"]


def test_no_one_can_write_a_feed_for_someone_else_or_another_family(postgres_db, world):
    eve, alice, family, pet = world["eve"], world["alice"], world["family"], world["pet"]
    forged = [
        (eve.id, CalendarFeed.issue(ids.new_id(), family.id, pet.id, "x1", eve.id, _now())),  # not a member
        (
            world["bob"].id,
            CalendarFeed.issue(ids.new_id(), family.id, None, "x2", alice.id, _now()),
        ),  # as alice
    ]
    for actor, feed in forged:
        with postgres_db.uow_factory(actor) as uow, pytest.raises(Exception, match="row-level security"):
            uow.calendar_feeds.add(feed)
    with postgres_db.uow_factory(world["bob"].id) as uow:
        conn = uow.calendar_feeds._conn()
        changed = conn.execute(
            text("UPDATE calendar_feeds SET revoked_at = now() WHERE id = :id"),
            {"id": world["feeds"]["a"].id},
        ).rowcount
        assert changed == 0  # Bob cannot revoke Alice's feed
