"""Load PostgreSQL with a realistic data set for the read benchmarks.

    .venv/bin/python -m benchmarks.generate [--fresh] [--users 150000 --families 90000 --pets 300000]

Provisions a database of its own (`tailtracker_bench`, roles `tt_bench_owner` and `tt_bench_app`,
so nothing another database uses is touched) with `provision_postgres` + `migrate`, then COPYs
users, families, memberships and pets as the owner role (BYPASSRLS, so row-level security does
not filter the load), then VACUUM ANALYZE.

Shape of the data (deterministic for a given --seed):
- users: created over the last three years; ids are UUIDv7 of their creation time, so ids
  and rows are in insertion order, as the application's own ids are;
- families: each founded by a distinct user (its one owner; a user owns at most one family);
  the users who own none join one family each as member or viewer, so families have 1 to 3
  members (with the default sizes: 40% of families have 2 or 3 members);
- pets: spread over the families with a skew (15% of families have none, a few have many);
  tier limits are NOT respected (a free family may hold more pets than its tier allows): the
  benchmark reads, it does not create.

Idempotent: a database already loaded with the requested sizes is left alone; `--fresh` drops
and rebuilds it.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg

from tailtracker_core.ids import uuid7

__all__ = ["Dataset", "DbUrls", "generate", "main", "provision"]

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATABASE = "tailtracker_bench"
OWNER_ROLE = "tt_bench_owner"
APP_ROLE = "tt_bench_app"
APP_PASSWORD = "tt-bench-app"  # a throw-away local benchmark database, on 127.0.0.1 only

_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
_EPOCH = _NOW - timedelta(days=3 * 365)

_FIRST = [
    "Ada",
    "Alan",
    "Alice",
    "Anna",
    "Ben",
    "Carla",
    "Chen",
    "David",
    "Elena",
    "Emma",
    "Eva",
    "Felix",
    "Grace",
    "Hana",
    "Ivan",
    "Jonas",
    "Julia",
    "Kai",
    "Lara",
    "Leo",
    "Lina",
    "Luca",
    "Maya",
    "Mia",
    "Noah",
    "Nora",
    "Omar",
    "Paul",
    "Rosa",
    "Sam",
    "Sara",
    "Sofia",
    "Tom",
    "Vera",
    "Yuki",
    "Zoe",
]
_LAST = [
    "Adams",
    "Baker",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Martin",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Uribe",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zimmermann",
]
_LOCALES = [
    ("en-GB", "Europe/London"),
    ("de-DE", "Europe/Berlin"),
    ("fr-FR", "Europe/Paris"),
    ("en-US", "America/New_York"),
    ("es-ES", "Europe/Madrid"),
    ("nl-NL", "Europe/Amsterdam"),
]
_PET_NAMES = [
    "Bella",
    "Max",
    "Luna",
    "Charlie",
    "Lucy",
    "Cooper",
    "Daisy",
    "Milo",
    "Coco",
    "Rocky",
    "Lola",
    "Buddy",
    "Nala",
    "Teddy",
    "Simba",
    "Bailey",
    "Oscar",
    "Molly",
    "Loki",
    "Pepper",
    "Ziggy",
    "Mochi",
    "Biscuit",
    "Willow",
    "Jasper",
    "Olive",
    "Hazel",
    "Toby",
    "Rosie",
    "Finn",
    "Ruby",
    "Gizmo",
    "Kiwi",
]
_BREEDS = {
    "dog": ["Labrador Retriever", "German Shepherd", "Golden Retriever", "Beagle", "Border Collie", None],
    "cat": ["European Shorthair", "Maine Coon", "Siamese", "British Shorthair", "Ragdoll", None],
    "rabbit": ["Holland Lop", "Netherland Dwarf", "Lionhead", None],
    "bird": ["Budgerigar", "Cockatiel", "Canary", None],
    "other": [None],
}
_SPECIES = ["dog", "cat", "rabbit", "bird", "other"]
_SPECIES_WEIGHTS = [45, 38, 8, 6, 3]
_COLORS = ["black", "white", "brown", "grey", "ginger", "cream", "tabby", "brindle", "golden"]
_SIZES = {
    "dog": ["small", "medium", "large"],
    "cat": ["small", "medium"],
    "rabbit": ["small"],
    "bird": ["small"],
    "other": ["small", "medium"],
}
_WEIGHT = {
    "dog": (3.0, 45.0),
    "cat": (2.5, 8.0),
    "rabbit": (1.0, 4.0),
    "bird": (0.03, 0.5),
    "other": (0.1, 5.0),
}


@dataclass(frozen=True)
class DbUrls:
    admin: str
    owner: str
    app: str
    database: str


@dataclass(frozen=True)
class Dataset:
    users: int
    families: int
    pets: int
    seed: int = 42


def provision(admin_url: str, database: str) -> DbUrls:
    """Roles and database (idempotent), through the application's own provisioning code."""
    from adapters.sql import provision_postgres

    owner_url, app_url = provision_postgres(
        admin_url, database, owner_role=OWNER_ROLE, app_role=APP_ROLE, app_password=APP_PASSWORD
    )
    return DbUrls(admin=admin_url, owner=owner_url, app=app_url, database=database)


def _database_exists(admin_url: str, database: str) -> bool:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None
        )


def _drop_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def loaded_counts(url: str) -> dict[str, int] | None:
    """Row counts of the four tables, or None when the schema is not there."""
    with psycopg.connect(url, connect_timeout=10) as conn:
        if conn.execute("SELECT to_regclass('public.pets')").fetchone() == (None,):
            return None
        row = conn.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM families),"
            " (SELECT count(*) FROM memberships), (SELECT count(*) FROM pets)"
        ).fetchone()
        assert row is not None
        return dict(zip(("users", "families", "memberships", "pets"), row, strict=True))


# --- ids and values -----------------------------------------------------------------------


def _uuid7(ms: int, rng: random.Random) -> str:
    return str(uuid7(ms, rng.getrandbits(74)))


def _times(n: int, start: datetime, end: datetime, rng: random.Random) -> list[int]:
    """n sorted Unix milliseconds between start and end."""
    lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    return sorted(rng.randrange(lo, hi) for _ in range(n))


def _ts(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def _nullable(value: object) -> str:
    return "\\N" if value is None else str(value)


@dataclass
class _Rows:
    users: list[str]
    families: list[str]
    memberships: list[str]
    pets: list[str]
    member_count: dict[int, int]


def _password_hash() -> str:
    """One real argon2id hash (the app's parameters) of a random password nobody knows: the rows
    look like real ones, and nobody signs in during a benchmark (tokens are minted directly)."""
    import secrets

    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(secrets.token_urlsafe(24))


def build_rows(ds: Dataset) -> _Rows:
    """Every row as a line of COPY text (no value holds a tab, newline or backslash)."""
    rng = random.Random(ds.seed)
    password_hash = _password_hash()
    # users
    user_ms = _times(ds.users, _EPOCH, _NOW - timedelta(days=30), rng)
    user_ids = [_uuid7(ms, rng) for ms in user_ms]
    users: list[str] = []
    for i, (uid, ms) in enumerate(zip(user_ids, user_ms, strict=True)):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        email = f"{first}.{last}.{i}@example.test"
        locale, tz = rng.choice(_LOCALES)
        phone = f"+4475{rng.randrange(10_000_000, 99_999_999)}" if rng.random() < 0.4 else None
        alert = rng.random() < 0.3
        lat = f"{rng.uniform(36.0, 60.0):.5f}" if alert else None
        lon = f"{rng.uniform(-9.0, 25.0):.5f}" if alert else None
        radius = rng.choice(("2", "5", "10")) if alert else None
        users.append(
            "\t".join(
                (
                    uid,
                    email,
                    email.lower(),
                    f"{first} {last}",
                    password_hash,
                    _ts(ms),
                    locale,
                    tz,
                    _nullable(phone),
                    _nullable(lat),
                    _nullable(lon),
                    _nullable(radius),
                    "1",
                )
            )
        )
    # families: each founded by a distinct user, a little after that user signed up
    founders = rng.sample(range(ds.users), min(ds.families, ds.users))
    founders.sort(key=lambda u: user_ms[u])
    fam_ms = [user_ms[u] + rng.randrange(60_000, 20 * 86_400_000) for u in founders]
    order = sorted(range(len(founders)), key=lambda f: fam_ms[f])
    founders = [founders[f] for f in order]
    fam_ms = [fam_ms[f] for f in order]
    fam_ids = [_uuid7(ms, rng) for ms in fam_ms]
    families: list[str] = []
    memberships: list[str] = []
    member_count = dict.fromkeys(range(len(fam_ids)), 1)
    for f, (fid, ms, owner) in enumerate(zip(fam_ids, fam_ms, founders, strict=True)):
        families.append("\t".join((fid, f"The {_LAST[f % len(_LAST)]} household", _ts(ms), "1")))
        memberships.append("\t".join((fid, user_ids[owner], "owner", _ts(ms))))
    # the users who found nothing join one family each (at most 3 members a family)
    owners = set(founders)
    joiners = [u for u in range(ds.users) if u not in owners]
    rng.shuffle(joiners)
    slots = [f for f in range(len(fam_ids)) for _ in range(2)]  # two extra seats per family
    rng.shuffle(slots)
    for u, f in zip(joiners, slots, strict=False):
        member_count[f] += 1
        joined = max(fam_ms[f], user_ms[u]) + rng.randrange(60_000, 30 * 86_400_000)
        role = "member" if rng.random() < 0.7 else "viewer"
        memberships.append("\t".join((fam_ids[f], user_ids[u], role, _ts(joined))))
    # pets: skewed over 85% of the families
    with_pets = rng.sample(range(len(fam_ids)), max(1, int(len(fam_ids) * 0.85)))
    weights = [rng.lognormvariate(0.0, 0.8) for _ in with_pets]
    homes = rng.choices(with_pets, weights=weights, k=ds.pets)
    pet_rows: list[tuple[int, str]] = []
    for f in homes:
        created = fam_ms[f] + rng.randrange(3_600_000, 60 * 86_400_000)
        created = min(created, int(_NOW.timestamp() * 1000) - 1000)
        pet_rows.append((created, _pet_line(_uuid7(created, rng), fam_ids[f], created, rng)))
    pet_rows.sort(key=lambda r: r[0])
    return _Rows(users, families, memberships, [line for _, line in pet_rows], member_count)


def _pet_line(pid: str, fid: str, created_ms: int, rng: random.Random) -> str:
    species = rng.choices(_SPECIES, weights=_SPECIES_WEIGHTS)[0]
    sex = rng.choices(("male", "female", "unknown"), weights=(48, 48, 4))[0]
    breed = rng.choice(_BREEDS[species])
    born = date(2008, 1, 1) + timedelta(days=rng.randrange(0, 6500)) if rng.random() < 0.8 else None
    colors = rng.sample(_COLORS, rng.randint(1, 3))
    colors_json = "[" + ",".join(f'"{c}"' for c in colors) + "]"
    size = rng.choice(_SIZES[species]) if rng.random() < 0.7 else None
    lo, hi = _WEIGHT[species]
    weight = f"{rng.uniform(lo, hi):.2f}" if rng.random() < 0.6 else None
    chip = (
        f"{rng.choice((250, 276, 826, 900, 941, 985))}{rng.randrange(10**11, 10**12)}"
        if rng.random() < 0.5
        else None
    )
    neutered = rng.choice(("t", "f", None))
    notes = "Allergic to chicken; two meals a day." if rng.random() < 0.1 else None
    ts = _ts(created_ms)
    return "\t".join(
        (
            pid,
            fid,
            rng.choice(_PET_NAMES),
            species,
            sex,
            ts,
            ts,
            _nullable(breed),
            _nullable(born),
            colors_json,
            _nullable(size),
            _nullable(weight),
            _nullable(chip),
            _nullable(neutered),
            _nullable(notes),
            "1",
        )
    )


_COLUMNS = {
    "users": "id, email, email_key, display_name, password_hash, created_at, locale, timezone, phone,"
    " alert_lat, alert_lon, alert_radius_km, version",
    "families": "id, name, created_at, version",
    "memberships": "family_id, user_id, role, joined_at",
    "pets": "id, family_id, name, species, sex, created_at, updated_at, breed, birth_date, colors, size,"
    " weight_kg, microchip, neutered, notes, version",
}


def _copy(conn: psycopg.Connection, table: str, lines: Iterable[str], chunk: int = 20_000) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({_COLUMNS[table]}) FROM STDIN") as copy:
        buf = io.StringIO()
        for n, line in enumerate(lines, start=1):
            buf.write(line)
            buf.write("\n")
            if n % chunk == 0:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())


def _loader_url(urls: DbUrls) -> str:
    """The owner role when it bypasses row-level security (it should); else the admin role."""
    with psycopg.connect(urls.owner, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    if row and row[0]:
        return urls.owner
    print("  the owner role does not bypass RLS: loading as the admin role", file=sys.stderr)
    admin = psycopg.conninfo.conninfo_to_dict(urls.admin)
    admin["dbname"] = urls.database
    return psycopg.conninfo.make_conninfo(**admin)


def generate(
    ds: Dataset, *, admin_url: str = DEFAULT_ADMIN_URL, database: str = DEFAULT_DATABASE, fresh: bool = False
) -> DbUrls:
    """Provision, migrate and load (unless already loaded with these sizes); return the URLs."""
    from adapters.sql import migrate

    started = time.monotonic()
    if fresh and _database_exists(admin_url, database):
        print(f"dropping database {database}")
        _drop_database(admin_url, database)
    urls = provision(admin_url, database)
    migrate(urls.owner, app_role=APP_ROLE)
    counts = loaded_counts(urls.owner)
    assert counts is not None, "the migration did not create the schema"
    if counts["users"] == ds.users and counts["families"] == ds.families and counts["pets"] == ds.pets:
        print(f"{database} already holds {counts}: nothing to do (use --fresh to rebuild)")
        return urls
    if any(counts.values()):
        raise SystemExit(f"{database} holds other data ({counts}); run again with --fresh to rebuild it")
    t0 = time.monotonic()
    rows = build_rows(ds)
    print(
        f"built {len(rows.users)} users, {len(rows.families)} families, {len(rows.memberships)} memberships,"
        f" {len(rows.pets)} pets in {time.monotonic() - t0:.1f}s"
    )
    t0 = time.monotonic()
    with psycopg.connect(_loader_url(urls), connect_timeout=10) as conn:
        conn.execute("SET synchronous_commit = off")
        for table in ("users", "families", "memberships", "pets"):
            t1 = time.monotonic()
            _copy(conn, table, getattr(rows, table))
            print(f"  COPY {table}: {time.monotonic() - t1:.1f}s")
        conn.commit()
    print(f"loaded in {time.monotonic() - t0:.1f}s")
    t0 = time.monotonic()
    with psycopg.connect(urls.owner, autocommit=True, connect_timeout=10) as conn:
        conn.execute("VACUUM (ANALYZE) users, families, memberships, pets")
    print(f"VACUUM ANALYZE in {time.monotonic() - t0:.1f}s")
    sizes = {}
    for n in rows.member_count.values():
        sizes[n] = sizes.get(n, 0) + 1
    print(f"families by member count: {dict(sorted(sizes.items()))}")
    print(f"done in {time.monotonic() - started:.1f}s: {loaded_counts(urls.owner)}")
    return urls


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="a superuser URL (default: %(default)s)")
    p.add_argument(
        "--database", default=DEFAULT_DATABASE, help="database to (re)build (default: %(default)s)"
    )
    p.add_argument("--users", type=int, default=150_000)
    p.add_argument("--families", type=int, default=90_000)
    p.add_argument("--pets", type=int, default=300_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--fresh", action="store_true", help="drop the database first and rebuild it")
    a = p.parse_args(argv)
    if not 0 < a.families <= a.users or a.pets < 0:
        p.error("need 0 < families <= users and pets >= 0")
    generate(
        Dataset(a.users, a.families, a.pets, a.seed),
        admin_url=a.admin_url,
        database=a.database,
        fresh=a.fresh,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
