"""`tailtracker`: run the API, the worker, the relay or the reminder scheduler; migrate; seed demo;
add users; housekeeping (sweep-files, purge).

Every command reads its settings from TAILTRACKER_* environment variables (see
docs/configuration.md); with none set it uses the embedded default under ./var.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from datetime import date

from entrypoints.bootstrap import Settings, SettingsError, build, migrate

__all__ = ["main"]

DEMO_PASSWORD = "demo-pets-2026!"  # noqa: S105 -- the published demo login
DEMO_OWNER = "demo@tailtracker.example"
DEMO_MEMBER = "family@tailtracker.example"


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if not args.no_migrate:
        migrate(settings)
    if args.seed_demo:
        _seed(settings, quiet=True)
    base = f"http://{args.host}:{args.port}"
    print(
        f"TailTracker API on {base}  (database {settings.database_url}, cache {settings.cache_url}, "
        f"broker {settings.broker_url})\n"
        f"  API docs:    {base}/schema   (OpenAPI JSON: {base}/schema/openapi.json)\n"
        f"  Health:      {base}/health, {base}/ready, {base}/metrics\n"
        f"  Try it:      curl -s -X POST {base}/v1/auth/login -H 'content-type: application/json' "
        f'-d \'{{"email": "{DEMO_OWNER}", "password": "{DEMO_PASSWORD}"}}\'\n'
        f"  Then:        curl -s {base}/v1/pets -H 'authorization: Bearer <access_token>'\n"
        f"  Emails sent by the embedded worker land in {settings.email_url}\n",
        flush=True,
    )
    from granian import Granian  # the ASGI server; the app is named by string, not imported

    Granian(
        "entrypoints.http.asgi:create",
        factory=True,
        interface="asgi",  # type: ignore[arg-type]
        address=args.host,
        port=args.port,
        workers=args.workers,
        log_access=args.access_log,
    ).serve()
    return 0


def _exec_worker(extra: list[str]) -> int:
    # The worker is its own entrypoint: start it as a process rather than import it.
    os.execv(sys.executable, [sys.executable, "-m", "entrypoints.worker", *extra])  # noqa: S606
    return 0  # pragma: no cover


def _cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    extra = ["--threads", str(args.threads)] + (["--with-relay"] if args.with_relay else [])
    return _exec_worker(extra)


def _cmd_relay(args: argparse.Namespace, settings: Settings) -> int:
    return _exec_worker(["--relay-only"])


def _cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    # Its own entrypoint too: started as a process, not imported.
    extra = ["--once"] if args.once else []
    if args.metrics_port:
        extra += ["--metrics-port", str(args.metrics_port)]
    os.execv(sys.executable, [sys.executable, "-m", "entrypoints.scheduler", *extra])  # noqa: S606
    return 0  # pragma: no cover


def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    migrate(settings)
    print(f"database at {settings.migrations_url} is up to date")
    return 0


def _cmd_geo_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    container = build(settings)
    try:
        index = container.geo_index
        rebuild = getattr(index, "rebuild", None)
        if rebuild is None:
            print("the geo index is the database itself (no cache configured): nothing to rebuild")
            return 0
        count = rebuild()
        print(f"geo cache rebuilt from the database: {count} open lost reports")
        return 0
    finally:
        container.close()


def _seed(settings: Settings, quiet: bool = False) -> None:
    from tailtracker_core.errors import Conflict
    from tailtracker_core.model.pets import PetDraft, Sex, Size, Species
    from tailtracker_core.model.roles import Role
    from tailtracker_core.usecases import accounts, families, pets

    container = build(settings)
    try:
        deps = container.deps
        try:
            owner = accounts.register(deps, DEMO_OWNER, DEMO_PASSWORD, "Dana Demo", "en-GB", "Europe/London")
        except Conflict:
            if not quiet:
                print(f"demo data is already there; sign in as {DEMO_OWNER} / {DEMO_PASSWORD}")
            return
        member = accounts.register(deps, DEMO_MEMBER, DEMO_PASSWORD, "Fin Family", "de-DE", "Europe/Berlin")
        family = families.list_families(deps, owner.user.id, None, 1)[0]
        pets.create_pet(
            deps,
            owner.user.id,
            family.id,
            PetDraft(
                name="Biscuit",
                species=Species.DOG,
                sex=Sex.FEMALE,
                breed="Beagle",
                birth_date=date(2022, 4, 2),
                colors=["tan", "white", "black"],
                size=Size.MEDIUM,
                weight_kg=11.5,
            ),
        )
        pets.create_pet(
            deps,
            owner.user.id,
            family.id,
            PetDraft(name="Miso", species=Species.CAT, sex=Sex.MALE, colors=["grey"], size=Size.SMALL),
        )
        issued = families.invite(deps, owner.user.id, family.id, DEMO_MEMBER, Role.MEMBER)
        families.accept_invitation(deps, member.user.id, issued.token)
    finally:
        container.close()
    if not quiet:
        print(f"demo data created; sign in as {DEMO_OWNER} or {DEMO_MEMBER}, password {DEMO_PASSWORD}")


def _cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    migrate(settings)
    _seed(settings)
    return 0


def _cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus
    from tailtracker_core.model.tiers import Tier
    from tailtracker_core.usecases import accounts

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password (12-128 characters): ")
    migrate(settings)
    container = build(settings)
    try:
        result = accounts.register(
            container.deps, args.email, password, args.display_name, args.locale, args.timezone
        )
        if args.tier != "free":
            deps = container.deps
            with deps.uow(result.user.id) as uow:
                uow.subscriptions.add(
                    Subscription(
                        deps.ids.new_id(), result.user.id, Tier(args.tier), SubscriptionStatus.ACTIVE, None
                    )
                )
                uow.commit()
    finally:
        container.close()
    print(f"created user {result.user.id} <{result.user.email}> on the {args.tier} tier")
    return 0


def _cmd_sweep_files(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from tailtracker_core.usecases.files import sweep_orphan_blobs

    container = build(settings)
    try:
        deleted = sweep_orphan_blobs(container.deps, grace=timedelta(minutes=args.grace_minutes))
    finally:
        container.close()
    print(f"deleted {deleted} orphaned blobs from {settings.files_store_url}")
    return 0


def _cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    from tailtracker_core.usecases.housekeeping import purge

    container = build(settings)
    try:
        deps = container.deps
        result = purge(deps.uow, container.database.outbox(), deps.clock, settings.purge())
    finally:
        container.close()
    print(
        f"deleted {result.outbox_sent} sent outbox messages older than {settings.outbox_retention_days} days "
        f"and {result.idempotency_keys} expired idempotency keys"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tailtracker",
        description="TailTracker backend. Settings come from TAILTRACKER_* environment variables; "
        "with none set, everything runs embedded (SQLite, in-process cache and queue) under ./var.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the HTTP API (migrates first)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1, help="API worker processes (default 1)")
    s.add_argument("--seed-demo", action="store_true", help="create the demo users and pets if missing")
    s.add_argument("--no-migrate", action="store_true", help="do not migrate the database first")
    s.add_argument("--access-log", action="store_true", help="log every request")
    s.set_defaults(fn=_cmd_serve)

    w = sub.add_parser("worker", help="run the background worker (Dramatiq) for the configured broker")
    w.add_argument("--threads", type=int, default=4)
    w.add_argument("--with-relay", action="store_true", help="also run the outbox relay in this process")
    w.set_defaults(fn=_cmd_worker)

    r = sub.add_parser("relay", help="run the outbox relay: publish committed events to the broker")
    r.set_defaults(fn=_cmd_relay)

    sc = sub.add_parser("scheduler", help="run the reminder scheduler (due care and vaccination reminders)")
    sc.add_argument("--once", action="store_true", help="run one pass and exit")
    sc.add_argument("--metrics-port", type=int, default=0, help="serve Prometheus metrics on this port")
    sc.set_defaults(fn=_cmd_scheduler)

    m = sub.add_parser("migrate", help="bring the database schema up to date")
    m.set_defaults(fn=_cmd_migrate)

    g = sub.add_parser(
        "geo-rebuild", help="repopulate the Redis cache of open lost reports from the database"
    )
    g.set_defaults(fn=_cmd_geo_rebuild)

    d = sub.add_parser("seed-demo", help="create demo users, a family and pets (idempotent)")
    d.set_defaults(fn=_cmd_seed_demo)

    f = sub.add_parser(
        "sweep-files", help="delete stored blobs that no file names (left by crashed uploads); run daily"
    )
    f.add_argument(
        "--grace-minutes",
        type=int,
        default=60,
        help="only blobs written longer ago than this (default 60: uploads in flight stay)",
    )
    f.set_defaults(fn=_cmd_sweep_files)

    pg = sub.add_parser(
        "purge",
        help="delete sent outbox messages past TAILTRACKER_OUTBOX_RETENTION_DAYS and expired "
        "idempotency keys; run daily",
    )
    pg.set_defaults(fn=_cmd_purge)

    c = sub.add_parser("create-user", help="create an account (asks for the password)")
    c.add_argument("--email", required=True, help="sign-in address (unique, case-insensitive)")
    c.add_argument("--display-name", required=True, help="the name other family members see")
    c.add_argument("--locale", default="en", help="BCP 47 language tag for emails (default en)")
    c.add_argument("--timezone", default="UTC", help="IANA timezone, e.g. Europe/London (default UTC)")
    c.add_argument(
        "--tier",
        choices=["free", "premium", "pro"],
        default="free",
        help="record a manual subscription on this tier (default free: none)",
    )
    c.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    c.set_defaults(fn=_cmd_create_user)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from tailtracker_core.errors import DomainError

    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return int(args.fn(args, settings))
    except SettingsError as exc:
        print(f"tailtracker: configuration error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"tailtracker: {exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
