"""The one composition root: settings from TAILTRACKER_* variables, adapters chosen by URL.

HTTP, worker and CLI entrypoints all build their world here and nowhere else.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from attrs import define, evolve, field, frozen

from tailtracker_core.config import CoreConfig
from tailtracker_core.ports import (
    Cache,
    CareTaskReader,
    EmailSender,
    EventPublisher,
    FileStore,
    OutboxStore,
    PetReader,
    RateLimiter,
    SessionReader,
    SessionStore,
)
from tailtracker_core.usecases.deps import Deps

__all__ = ["Container", "Settings", "SettingsError", "build", "configure_logging", "migrate"]


class SettingsError(ValueError):
    """A TAILTRACKER_* variable is missing or malformed (message names it)."""


def _scheme(url: str) -> str:
    return urlsplit(url).scheme.split("+")[0]


def _bool(value: str, name: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"TAILTRACKER_{name} must be true or false, not {value!r}")


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"TAILTRACKER_{name} must be a whole number, not {value!r}") from None


@frozen
class Settings:
    """Every setting, with the embedded default (no services, everything under ./var)."""

    env: str = "development"
    var_dir: str = "./var"
    database_url: str = "sqlite:///./var/tailtracker.db"
    migration_database_url: str = ""  # defaults to database_url
    database_pool_size: int = 10
    http_threads: int = 8  # threads per API process running the (sync) use cases
    cache_url: str = "memory://"
    broker_url: str = "stub://"
    email_url: str = "file://./var/outbox"
    jwt_keys: str = ""  # "kid:secret,kid2:secret2"; embedded default: a key file under var_dir
    jwt_active_kid: str = ""
    access_ttl_seconds: int = 900
    refresh_ttl_seconds: int = 30 * 24 * 3600
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    argon2_parallelism: int = 1
    public_base_url: str = "http://127.0.0.1:8000"
    invite_url_base: str = ""  # defaults to {public_base_url}/v1/invitations
    schema_enabled: bool = True
    max_body_bytes: int = 1024 * 1024
    rate_limits_enabled: bool = True
    embedded_worker: bool = True  # with stub://, run the worker and relay inside the API process
    # Notification delivery (docs/notifications.md): Dramatiq retries of the delivery actor.
    notification_max_retries: int = 12
    notification_min_backoff_ms: int = 15_000
    notification_max_backoff_ms: int = 3_600_000
    notification_lease_seconds: int = 300
    # Lost-pet alert fan-out (docs/lost-and-found.md): users per batch message, and a pause
    # before each next batch is queued (0: none; spreads a large fan-out's email burst).
    alert_batch_size: int = 500
    alert_batch_pause_ms: int = 0
    # The reminder scheduler (docs/reminders.md): a pass every interval plans what falls due
    # before now + lookahead; with stub://, it runs inside the API process (embedded_scheduler).
    scheduler_interval_seconds: int = 10
    scheduler_lookahead_seconds: int = 60
    scheduler_batch: int = 500
    scheduler_max_lateness_seconds: int = 24 * 3600
    embedded_scheduler: bool = True
    # Tests and demos only: every clock of this process runs this many seconds ahead (refused
    # in production). Lets a test see "the next minute" without waiting for it.
    clock_offset_seconds: int = 0
    # Prefix of the broker queue names ("" = `events`, `notifications`): lets several
    # environments (or test runs) share one RabbitMQ/Redis without taking each other's work.
    queue_prefix: str = ""
    log_level: str = "INFO"
    log_json: bool = False
    # Files (docs/files.md). "" = file://{var_dir}/files; or s3://bucket?endpoint_url=...
    files_url: str = ""
    # Upload limits; 0 keeps CoreConfig's default (15 MiB, 20 MiB, 50 megapixels).
    photo_max_bytes: int = 0
    document_max_bytes: int = 0
    image_max_pixels: int = 0
    # `tailtracker purge` (docs/operations.md): sent outbox messages are kept this many days,
    # then deleted this many rows a transaction (idempotency records: their 24 h TTL).
    outbox_retention_days: int = 7
    purge_batch: int = 1000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in cls.__attrs_attrs__:  # type: ignore[attr-defined]
            raw = env.get(f"TAILTRACKER_{f.name.upper()}")
            if raw is None:
                continue
            if f.type in ("bool", bool):
                values[f.name] = _bool(raw, f.name.upper())
            elif f.type in ("int", int):
                values[f.name] = _int(raw, f.name.upper())
            else:
                values[f.name] = raw
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        for name in ("database_url", "cache_url", "broker_url", "email_url"):
            value = getattr(self, name)
            if "://" not in value:
                raise SettingsError(f"TAILTRACKER_{name.upper()} must be a URL, not {value!r}")
        if self.notification_max_retries < 0 or self.notification_min_backoff_ms < 1:
            raise SettingsError(
                "TAILTRACKER_NOTIFICATION_MAX_RETRIES must be >= 0 and "
                "TAILTRACKER_NOTIFICATION_MIN_BACKOFF_MS >= 1"
            )
        if self.notification_max_backoff_ms < self.notification_min_backoff_ms:
            raise SettingsError("TAILTRACKER_NOTIFICATION_MAX_BACKOFF_MS must be >= the minimum backoff")
        if not 1 <= self.alert_batch_size <= 10_000 or self.alert_batch_pause_ms < 0:
            raise SettingsError(
                "TAILTRACKER_ALERT_BATCH_SIZE must be 1..10000 and TAILTRACKER_ALERT_BATCH_PAUSE_MS >= 0"
            )
        if self.notification_lease_seconds < 1:
            raise SettingsError("TAILTRACKER_NOTIFICATION_LEASE_SECONDS must be >= 1")
        if self.files_url and "://" not in self.files_url:
            raise SettingsError(f"TAILTRACKER_FILES_URL must be a URL, not {self.files_url!r}")
        for name in ("photo_max_bytes", "document_max_bytes", "image_max_pixels"):
            if getattr(self, name) < 0:
                raise SettingsError(f"TAILTRACKER_{name.upper()} must be 0 (the default) or more")
        if self.scheduler_interval_seconds < 1 or self.scheduler_batch < 1:
            raise SettingsError("TAILTRACKER_SCHEDULER_INTERVAL_SECONDS and _BATCH must be >= 1")
        if not 0 <= self.scheduler_lookahead_seconds <= 3600:
            raise SettingsError("TAILTRACKER_SCHEDULER_LOOKAHEAD_SECONDS must be between 0 and 3600")
        if not 0 <= self.scheduler_max_lateness_seconds <= 30 * 86400:
            raise SettingsError(
                "TAILTRACKER_SCHEDULER_MAX_LATENESS_SECONDS must be between 0 and 2592000 (30 days)"
            )
        if self.clock_offset_seconds and self.env == "production":
            raise SettingsError("TAILTRACKER_CLOCK_OFFSET_SECONDS is for tests and demos, not production")
        if self.queue_prefix and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", self.queue_prefix):
            raise SettingsError(
                "TAILTRACKER_QUEUE_PREFIX may hold letters, digits, '_', '.', '-' (64 at most)"
            )
        if not 0 <= self.outbox_retention_days <= 3650 or not 1 <= self.purge_batch <= 100_000:
            raise SettingsError(
                "TAILTRACKER_OUTBOX_RETENTION_DAYS must be 0..3650 and TAILTRACKER_PURGE_BATCH 1..100000"
            )
        if self.env == "production" and not self.jwt_keys:
            raise SettingsError("TAILTRACKER_JWT_KEYS is required in production (kid:secret,...)")

    def scheduler(self, core: CoreConfig | None = None) -> Any:
        """The scheduler's settings (a `usecases.reminders.SchedulerSettings`)."""
        from tailtracker_core.usecases.reminders import SchedulerSettings

        return SchedulerSettings(
            lookahead=timedelta(seconds=self.scheduler_lookahead_seconds),
            batch=self.scheduler_batch,
            max_lateness=timedelta(seconds=self.scheduler_max_lateness_seconds),
            reminders=(core or CoreConfig()).reminders,
        )

    def purge(self) -> Any:
        """`tailtracker purge`'s settings (a `usecases.housekeeping.PurgeSettings`)."""
        from tailtracker_core.usecases.housekeeping import PurgeSettings

        return PurgeSettings(
            outbox_retention=timedelta(days=self.outbox_retention_days), batch=self.purge_batch
        )

    @property
    def events_queue(self) -> str:
        return f"{self.queue_prefix}events"

    @property
    def notifications_queue(self) -> str:
        return f"{self.queue_prefix}notifications"

    @property
    def migrations_url(self) -> str:
        return self.migration_database_url or self.database_url

    @property
    def files_store_url(self) -> str:
        return self.files_url or f"file://{Path(self.var_dir) / 'files'}"

    @property
    def accept_url_base(self) -> str:
        return self.invite_url_base or f"{self.public_base_url.rstrip('/')}/v1/invitations"


@define
class Container:
    """What the entrypoints need, built once per process."""

    settings: Settings
    deps: Deps
    database: Any  # adapters.sql.Database or adapters.memory.uow.MemoryStore
    cache: Cache
    limiter: RateLimiter
    sessions: SessionStore
    outbox: OutboxStore
    email: EmailSender
    blobs: FileStore
    broker: Any  # dramatiq.Broker
    publisher: EventPublisher
    handlers: Any  # entrypoints.tasks.EventHandlers
    # The async read side (queries): connections made lazily in the serving event loop.
    pet_reader: PetReader
    session_reader: SessionReader
    care_task_reader: CareTaskReader
    geo_index: Any = None  # a GeoIndex (tailtracker_core.ports)
    nearby_reader: Any = None  # a NearbyReader: the public lost-report search (read side)
    _closers: list[Callable[[], None]] = field(factory=list)
    _async_closers: list[Callable[[], Awaitable[None]]] = field(factory=list)

    def on_close(self, fn: Callable[[], None]) -> None:
        self._closers.append(fn)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    async def aclose_readers(self) -> None:
        """Close the read side's connections; it must run on their event loop (the app's
        shutdown hook), before `close()`."""
        while self._async_closers:
            await self._async_closers.pop()()

    def ping(self) -> dict[str, str]:
        """Readiness of each backing service: "ok" or the error text."""
        checks: dict[str, Callable[[], object]] = {
            "database": lambda: self.database.ping(),
            "cache": lambda: self.cache.get("ready-probe"),
            "broker": getattr(self.broker, "ping", lambda: None),
            "files": getattr(self.blobs, "ping", lambda: None),
        }
        result = {}
        for name, check in checks.items():
            try:
                check()
                result[name] = "ok"
            except Exception as exc:  # a readiness probe reports, it does not raise
                result[name] = f"error: {type(exc).__name__}"
        return result


def _jwt_keys(settings: Settings) -> tuple[dict[str, str], str]:
    from adapters.security import parse_keys

    if settings.jwt_keys:
        keys = parse_keys(settings.jwt_keys)
        active = settings.jwt_active_kid or next(iter(keys))
        if active not in keys:
            raise SettingsError(f"TAILTRACKER_JWT_ACTIVE_KID {active!r} is not among TAILTRACKER_JWT_KEYS")
        return keys, active
    # Embedded default: one key, made on first start and kept under var/ (never in git).
    path = Path(settings.var_dir) / "jwt-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"local:{secrets.token_urlsafe(48)}")
        path.chmod(0o600)
    keys = parse_keys(path.read_text().strip())
    return keys, next(iter(keys))


def _kv(settings: Settings, clock: Any) -> tuple[Cache, RateLimiter, SessionStore, Callable[[], None]]:
    scheme = _scheme(settings.cache_url)
    if scheme == "memory":
        from adapters.memory.cache import MemoryCache
        from adapters.memory.limits import MemoryRateLimiter
        from adapters.memory.sessions import MemorySessionStore

        return MemoryCache(clock), MemoryRateLimiter(clock), MemorySessionStore(clock), lambda: None
    if scheme in {"redis", "rediss"}:
        from adapters.redis import RedisCache, RedisRateLimiter, RedisSessionStore, connect

        client = connect(settings.cache_url)
        return RedisCache(client), RedisRateLimiter(client), RedisSessionStore(client), client.close
    raise SettingsError(f"TAILTRACKER_CACHE_URL: use memory:// or redis://, not {scheme}://")


def _readers(settings: Settings, database: Any, sessions: Any) -> tuple[Any, Any, Any]:
    """The read side, by the same URL schemes: asyncpg for PostgreSQL (one pool, shared by
    the pet and care-task readers), a worker thread over the sync repositories for SQLite, the
    store itself in memory; redis.asyncio for sessions."""
    if _scheme(settings.database_url) == "memory":
        from adapters.memory.care_reads import MemoryCareTaskReader
        from adapters.memory.reads import MemoryPetReader

        pet_reader: Any = MemoryPetReader(database)
        care_task_reader: Any = MemoryCareTaskReader(database)
    else:
        from adapters.sql.care_reads import care_task_reader_for
        from adapters.sql.reads import pet_reader_for

        pet_reader = pet_reader_for(settings.database_url, database, max_size=2 * settings.database_pool_size)
        care_task_reader = care_task_reader_for(settings.database_url, database, pet_reader)
    if _scheme(settings.cache_url) == "memory":
        from adapters.memory.sessions import MemorySessionReader

        session_reader: Any = MemorySessionReader(sessions)
    else:
        from adapters.redis import AsyncRedisSessionReader

        session_reader = AsyncRedisSessionReader(settings.cache_url)
    return pet_reader, session_reader, care_task_reader


def _nearby_reader(settings: Settings, database: Any, geo_index: Any, pet_reader: Any) -> Any:
    """The public search's read side: one asyncpg statement on PostgreSQL (the pet reader's
    pool), the geo index and public views in a thread on SQLite, inline in memory."""
    if _scheme(settings.database_url) == "memory":
        from adapters.memory.lost_reads import MemoryNearbyReader

        return MemoryNearbyReader(database, geo_index)
    from adapters.sql.lost_reads import nearby_reader_for

    return nearby_reader_for(settings.database_url, database, geo_index, pet_reader)


def _geo_index(settings: Settings, database: Any) -> tuple[Any, Callable[[], None]]:
    """The database's own geo index (PostGIS, or a bounding box on SQLite); with a Redis
    cache, Redis GEO in front of it for hot searches (re-checked against the database)."""
    if _scheme(settings.database_url) == "memory":
        from adapters.memory.geo import MemoryGeoIndex

        return MemoryGeoIndex(database), lambda: None
    authority = database.geo_index()
    if _scheme(settings.cache_url) in {"redis", "rediss"}:
        from sqlalchemy.engine import make_url

        from adapters.redis import RedisGeoIndex, connect

        client = connect(settings.cache_url)
        # One cache per database: two deployments (or test runs) sharing a Redis never mix
        # their reports, and a rebuild of one never drops the other's.
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        prefix = f"tt:geo:{hashlib.sha256(where.encode()).hexdigest()[:12]}:"
        return RedisGeoIndex(client, authority, database.uow_factory, prefix=prefix), client.close
    return authority, lambda: None


def _database(settings: Settings, ids: Any, clock: Any) -> tuple[Any, Callable[[], None]]:
    scheme = _scheme(settings.database_url)
    if scheme == "memory":
        from adapters.memory.uow import MemoryStore

        return MemoryStore(ids, clock), lambda: None
    if scheme in {"sqlite", "postgresql", "postgres"}:
        from adapters.sql import Database

        db = Database(settings.database_url, pool_size=settings.database_pool_size)
        return db, db.dispose
    raise SettingsError(f"TAILTRACKER_DATABASE_URL: use sqlite:// or postgresql://, not {scheme}://")


def _files(settings: Settings, core: CoreConfig) -> tuple[FileStore, Any, CoreConfig]:
    """The blob store by URL scheme, the image processor, and the upload limits from settings."""
    from adapters.media import PillowImageProcessor, heif_available
    from adapters.storage import file_store_from_url

    try:
        blobs = file_store_from_url(settings.files_store_url)
    except ValueError as exc:
        raise SettingsError(f"TAILTRACKER_FILES_URL: {exc}") from None
    overrides = {
        name: value
        for name, value in (
            ("photo_max_bytes", settings.photo_max_bytes),
            ("document_max_bytes", settings.document_max_bytes),
            ("max_pixels", settings.image_max_pixels),
        )
        if value
    }
    rules = evolve(core.files, heic_enabled=core.files.heic_enabled and heif_available(), **overrides)
    return blobs, PillowImageProcessor(), evolve(core, files=rules)


def configure_logging(settings: Settings) -> None:
    """One log format for every process: readable lines in development, JSON lines (one
    object per record, with timestamp, level, logger and event) when TAILTRACKER_LOG_JSON."""
    import logging

    import structlog

    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    logging.getLogger("pika").setLevel(logging.WARNING)  # it narrates every socket at INFO


def migrate(settings: Settings) -> None:
    """Bring the database schema up to date (no-op for memory://)."""
    if _scheme(settings.database_url) == "memory":
        return
    from adapters.sql import migrate as sql_migrate

    sql_migrate(settings.migrations_url)


def build(settings: Settings | None = None, *, core: CoreConfig | None = None) -> Container:
    from adapters.messaging import email_sender_from_url
    from adapters.queue import DramatiqPublisher, broker_from_url
    from adapters.security import Argon2Hasher, JwtSigner
    from adapters.system import SystemClock, Uuid7Generator
    from entrypoints.tasks import EventHandlers, register_actors
    from tailtracker_core.model.reminders import Category
    from tailtracker_core.usecases import lost_alerts
    from tailtracker_core.usecases.notifications import Deliverer
    from tailtracker_core.usecases.reminders import still_wanted

    settings = settings or Settings.from_env()
    clock, ids = SystemClock(), Uuid7Generator()
    if settings.clock_offset_seconds:
        from adapters.system import OffsetClock

        clock = OffsetClock(timedelta(seconds=settings.clock_offset_seconds))
    database, close_db = _database(settings, ids, clock)
    cache, limiter, sessions, close_kv = _kv(settings, clock)
    keys, active = _jwt_keys(settings)
    signer = JwtSigner(
        keys,
        active,
        access_ttl_seconds=settings.access_ttl_seconds,
        refresh_ttl_seconds=settings.refresh_ttl_seconds,
        clock=clock,
    )
    hasher = Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_cost_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    blobs, images, core = _files(settings, core or CoreConfig())
    geo_index, close_geo = _geo_index(settings, database)
    # Links in notifications point at this deployment's public address.
    core = evolve(core, public_base_url=settings.public_base_url)
    deps = Deps(
        database.uow_factory,
        clock,
        ids,
        hasher,
        signer,
        sessions,
        limiter,
        core,
        blobs=blobs,
        images=images,
        geo_index=geo_index,
    )
    email = email_sender_from_url(settings.email_url)
    broker = broker_from_url(settings.broker_url)
    deliverer = Deliverer(
        uow=database.uow_factory,
        clock=clock,
        ids=ids,
        email=email,
        max_attempts=settings.notification_max_retries + 1,
        lease=timedelta(seconds=settings.notification_lease_seconds),
        # A lost-pet alert still needs the location_alerts consent and an open report at send time;
        # care reminders are cancelled when the occurrence was settled meanwhile (reminders.md).
        still_wanted={
            Category.LOST_PET_ALERT: lost_alerts.still_wanted,
            Category.CARE_REMINDER: partial(still_wanted, settings=deps.config.reminders),
        },
        # The batch form (deliver_batch, the fan-out's chunks): one query per chunk.
        still_wanted_many={Category.LOST_PET_ALERT: lost_alerts.still_wanted_many},
    )
    handlers = EventHandlers(
        email=email,
        sent_marks=cache,
        accept_url_base=settings.accept_url_base,
        deliverer=deliverer,
        notification_min_backoff_ms=settings.notification_min_backoff_ms,
        notification_max_backoff_ms=settings.notification_max_backoff_ms,
        blobs=blobs,
        geo_index=geo_index,
        deps=deps,
        alert_batch_size=settings.alert_batch_size,
        alert_batch_pause_ms=settings.alert_batch_pause_ms,
    )
    register_actors(
        broker,
        handlers,
        queue_name=settings.events_queue,
        notification_queue_name=settings.notifications_queue,
    )
    pet_reader, session_reader, care_task_reader = _readers(settings, database, sessions)
    nearby_reader = _nearby_reader(settings, database, geo_index, pet_reader)
    container = Container(
        settings=settings,
        deps=deps,
        database=database,
        cache=cache,
        limiter=limiter,
        sessions=sessions,
        outbox=database.outbox(),
        email=email,
        blobs=blobs,
        broker=broker,
        publisher=DramatiqPublisher(broker, queue_name=settings.events_queue),
        handlers=handlers,
        pet_reader=pet_reader,
        session_reader=session_reader,
        care_task_reader=care_task_reader,
        geo_index=geo_index,
        nearby_reader=nearby_reader,
        # popped last first: the care-task reader before the pet reader whose pool it may use
        async_closers=[pet_reader.close, session_reader.close, care_task_reader.close],
    )
    container.on_close(close_db)
    container.on_close(close_kv)
    container.on_close(close_geo)
    container.on_close(broker.close)
    return container
