"""Row-level security on PostgreSQL: the database itself keeps families apart.

Queries here are raw SQL as the app role with NO family filter: whatever they return is what
the policies let through, whatever bug a repository might have.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from attrs import frozen
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from adapters.sql import Database
from adapters.system import Uuid7Generator
from tailtracker_core.model.accounts import User
from tailtracker_core.model.families import Family, Invitation
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.model.roles import Role
from tests.fixtures.sql import PostgresDatabase

pytestmark = pytest.mark.postgres

FAMILY_TABLES = ("families", "memberships", "invitations", "pets")
_JOIN = "INSERT INTO memberships (family_id, user_id, role, joined_at) VALUES "
ids = Uuid7Generator()


@frozen
class World:
    alice: User
    bob: User
    carol: User  # invited to Alice's family, not a member
    alice_family: Family
    bob_family: Family
    alice_pet: Pet
    bob_pet: Pet
    invitation: Invitation


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def world(postgres_db: Database) -> World:
    users = [
        User(ids.new_id(), f"{n}@example.org", n.title(), "hash", _now()) for n in ("alice", "bob", "carol")
    ]
    alice, bob, carol = users
    for u in users:
        with postgres_db.uow_factory(u.id) as uow:
            uow.users.add(u)
            uow.commit()
    families, pets = [], []
    for owner in (alice, bob):
        family = Family.found(ids.new_id(), f"{owner.display_name}'s", owner.id, _now())
        pet = Pet(ids.new_id(), family.id, "Rex", Species.DOG, Sex.MALE, _now(), _now())
        with postgres_db.uow_factory(owner.id) as uow:
            uow.families.add(family)
            uow.pets.add(pet)
            uow.commit()
        families.append(family)
        pets.append(pet)
    inv = Invitation.issue(
        ids.new_id(),
        families[0].id,
        "Carol@Example.org",
        Role.MEMBER,
        "hash-1",
        alice.id,
        _now(),
        timedelta(days=7),
    )
    with postgres_db.uow_factory(alice.id) as uow:
        uow.invitations.add(inv)
        uow.commit()
    return World(alice, bob, carol, families[0], families[1], pets[0], pets[1], inv)


@pytest.fixture(scope="module")
def app_engine(postgres_database: PostgresDatabase) -> Iterator[Engine]:
    engine = create_engine(postgres_database.app_url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def admin_engine(postgres_database: PostgresDatabase) -> Iterator[Engine]:
    url = postgres_database.admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url.rsplit("/", 1)[0] + "/" + postgres_database.name, poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def as_user(app_engine: Engine) -> Iterator[object]:
    """`as_user(uid)`: a connection of the app role in a transaction acting for uid (or nobody)."""
    opened: list[Connection] = []

    def open_as(user_id: UUID | None) -> Connection:
        conn = app_engine.connect()
        opened.append(conn)
        conn.begin()
        conn.execute(text("SELECT set_config('tailtracker.user_id', :u, true)"), {"u": str(user_id or "")})
        return conn

    yield open_as
    for conn in opened:
        conn.rollback()
        conn.close()


def _family_ids(conn: Connection, table: str) -> set[UUID]:
    column = "id" if table == "families" else "family_id"
    return set(conn.execute(text(f"SELECT {column} FROM {table}")).scalars())


@pytest.mark.parametrize("table", FAMILY_TABLES)
def test_an_unfiltered_query_returns_only_the_actors_families(as_user, world: World, table: str) -> None:
    assert _family_ids(as_user(world.alice.id), table) == {world.alice_family.id}
    bob_sees = _family_ids(as_user(world.bob.id), table)
    assert bob_sees == ({world.bob_family.id} if table != "invitations" else set())


@pytest.mark.parametrize("table", FAMILY_TABLES)
def test_without_a_user_nothing_is_visible(as_user, app_engine: Engine, world: World, table: str) -> None:
    assert _family_ids(as_user(None), table) == set()
    with app_engine.connect() as conn:  # the setting never set on this connection at all
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0


def test_the_app_role_is_unprivileged_and_owns_nothing(as_user, postgres_database: PostgresDatabase) -> None:
    conn = as_user(None)
    me = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
    assert tuple(me) == (False, False)
    owned = conn.execute(
        text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
    ).scalar_one()
    assert owned == 0
    flags = conn.execute(
        text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relname = ANY(:t) AND relkind = 'r'"
        ),
        {"t": list(FAMILY_TABLES)},
    ).all()
    assert sorted(flags) == sorted((t, True, True) for t in FAMILY_TABLES)


def test_a_user_cannot_insert_a_pet_into_another_family(as_user, world: World) -> None:
    conn = as_user(world.alice.id)
    with pytest.raises(ProgrammingError, match="row-level security"):
        conn.execute(
            text(
                "INSERT INTO pets (id, family_id, name, species, sex, created_at, updated_at, colors,"
                " version) VALUES (:id, :f, 'Intruder', 'cat', 'male', now(), now(), '[]', 1)"
            ),
            {"id": ids.new_id(), "f": world.bob_family.id},
        )


def test_a_user_cannot_move_their_pet_into_another_family(as_user, world: World) -> None:
    conn = as_user(world.alice.id)
    with pytest.raises(ProgrammingError, match="row-level security"):
        conn.execute(
            text("UPDATE pets SET family_id = :f WHERE id = :p"),
            {"f": world.bob_family.id, "p": world.alice_pet.id},
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE pets SET name = 'Hacked' WHERE family_id = :f",
        "DELETE FROM pets WHERE family_id = :f",
        "UPDATE families SET name = 'Hacked' WHERE id = :f",
        "DELETE FROM families WHERE id = :f",
        "UPDATE memberships SET role = 'viewer' WHERE family_id = :f",
        "DELETE FROM memberships WHERE family_id = :f",
    ],
)
def test_a_user_cannot_change_or_delete_other_families_rows(
    as_user, admin_engine: Engine, world: World, statement: str
) -> None:
    conn = as_user(world.alice.id)
    assert conn.execute(text(statement), {"f": world.bob_family.id}).rowcount == 0
    conn.commit()
    with admin_engine.connect() as admin:  # the superuser sees Bob's rows untouched
        assert (
            admin.execute(text("SELECT name FROM pets WHERE id = :p"), {"p": world.bob_pet.id}).scalar()
            == "Rex"
        )
        roles = admin.execute(
            text("SELECT role FROM memberships WHERE family_id = :f"), {"f": world.bob_family.id}
        )
        assert list(roles.scalars()) == ["owner"]


def test_a_user_cannot_join_a_family_uninvited(as_user, world: World) -> None:
    conn = as_user(world.alice.id)
    with pytest.raises(ProgrammingError, match="row-level security"):
        conn.execute(
            text(_JOIN + "(:f, :u, 'owner', now())"),
            {"f": world.bob_family.id, "u": world.alice.id},
        )


def test_a_member_cannot_add_others_but_an_owner_can(as_user, postgres_db: Database, world: World) -> None:
    carol = as_user(world.carol.id)
    with pytest.raises(ProgrammingError, match="row-level security"):  # Carol is in no family
        carol.execute(
            text(_JOIN + "(:f, :u, 'member', now())"),
            {"f": world.alice_family.id, "u": world.bob.id},
        )
    alice = as_user(world.alice.id)
    alice.execute(
        text(_JOIN + "(:f, :u, 'viewer', now())"),
        {"f": world.alice_family.id, "u": world.bob.id},
    )
    alice.rollback()


def test_an_invitee_sees_and_may_update_their_invitation_but_not_the_family(as_user, world: World) -> None:
    conn = as_user(world.carol.id)
    assert _family_ids(conn, "invitations") == {world.alice_family.id}
    assert _family_ids(conn, "families") == set()
    assert _family_ids(conn, "pets") == set()
    updated = conn.execute(
        text("UPDATE invitations SET accepted_by = :u, accepted_at = now() WHERE id = :i"),
        {"u": world.carol.id, "i": world.invitation.id},
    )
    assert updated.rowcount == 1


def test_the_token_lookup_works_for_nobody_and_shows_only_the_preview(as_user, world: World) -> None:
    conn = as_user(None)
    row = conn.execute(
        text("SELECT family_name, inviter_name, email FROM tt_invitation_by_token(:h)"), {"h": "hash-1"}
    ).one()
    assert tuple(row) == ("Alice's", "Alice", "Carol@Example.org")
    assert _family_ids(conn, "invitations") == set()


def test_a_pooled_connection_forgets_the_actor_after_each_transaction(
    postgres_database: PostgresDatabase, world: World
) -> None:
    db = Database(postgres_database.app_url, pool_size=1)
    try:
        with db.uow_factory(world.alice.id) as uow:
            assert uow.pets.get(world.alice_pet.id) == world.alice_pet
            uow.commit()
            assert uow.pets.get(world.alice_pet.id) == world.alice_pet  # set again for the new transaction
        with db.uow_factory(None) as uow:
            assert uow.pets.get(world.alice_pet.id) is None
            assert uow.families.roles_of(world.alice.id) == {}
        with db.uow_factory(world.bob.id) as uow:
            assert uow.pets.get(world.alice_pet.id) is None
            assert uow.families.get(world.alice_family.id) is None
    finally:
        db.dispose()
