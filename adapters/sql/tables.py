"""The row tables (SQLAlchemy Core). Core objects are mapped to and from rows in `mapping.py`.

Types are portable between SQLite and PostgreSQL: `Uuid`, `UtcDateTime` (always aware UTC
in Python), JSON lists, and enums stored as their string values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

__all__ = [
    "care_completions",
    "care_schedules",
    "medical_records",
    "vaccinations",
    "calendar_feeds",
    "consent_records",
    "deliveries",
    "email_suppressions",
    "erasure_requests",
    "families",
    "idempotency_keys",
    "invitations",
    "memberships",
    "metadata",
    "notification_preferences",
    "notifications",
    "outbox",
    "pets",
    "subscriptions",
    "users",
    "UtcDateTime",
]


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back as an aware UTC datetime, on every dialect.

    SQLite keeps no offset, so naive values read back are UTC by construction; naive values
    written are refused because their zone is unknown.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every timestamp must carry its zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_JSON = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(254), nullable=False),
    Column("email_key", String(254), nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("locale", String(35), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("phone", String(20)),
    Column("alert_lat", Double),
    Column("alert_lon", Double),
    Column("alert_radius_km", Double),
    Column("version", Integer, nullable=False),
    Index("ux_users_email_key", "email_key", unique=True),
)

families = Table(
    "families",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("family_id", Uuid, ForeignKey("families.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("joined_at", UtcDateTime, nullable=False),
    Index("ix_memberships_user_id", "user_id"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("family_id", Uuid, ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(128), nullable=False),
    Column("invited_by", Uuid, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("accepted_at", UtcDateTime),
    Column("accepted_by", Uuid),
    Column("revoked_at", UtcDateTime),
    Index("ux_invitations_token_hash", "token_hash", unique=True),
    Index("ix_invitations_family_id", "family_id"),
)

pets = Table(
    "pets",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("family_id", Uuid, ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("species", String(16), nullable=False),
    Column("sex", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("breed", String(100)),
    Column("birth_date", Date),
    Column("colors", _JSON, nullable=False),
    Column("size", String(16)),
    Column("weight_kg", Double),
    Column("microchip", String(15)),
    Column("neutered", Boolean),
    Column("notes", Text),
    Column("version", Integer, nullable=False),
    Index("ix_pets_family_id_id", "family_id", "id"),
    Index(
        "ix_pets_microchip",
        "microchip",
        sqlite_where=text("microchip IS NOT NULL"),
        postgresql_where=text("microchip IS NOT NULL"),
    ),
)

consent_records = Table(
    "consent_records",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("policy_version", String(40), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("method", String(16), nullable=False),
    Index("ix_consent_records_user", "user_id", "recorded_at", "id"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("tier", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("current_period_end", UtcDateTime),
    Column("provider", String(32), nullable=False),
    Index("ix_subscriptions_user_id", "user_id"),
)

erasure_requests = Table(
    "erasure_requests",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("completed_at", UtcDateTime),
    Index("ix_erasure_requests_user_id", "user_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("key", String(400), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("topic", String(100), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Index(
        "ix_outbox_unsent",
        "created_at",
        "id",
        sqlite_where=text("sent_at IS NULL"),
        postgresql_where=text("sent_at IS NULL"),
    ),
    Index(
        "ix_outbox_sent",
        "sent_at",
        sqlite_where=text("sent_at IS NOT NULL"),
        postgresql_where=text("sent_at IS NOT NULL"),
    ),
)

# --- notifications (docs/notifications.md) ---------------------------------------------------

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("key", String(400), nullable=False),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("category", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("template", String(100), nullable=False),
    Column("params", _JSON, nullable=False),
    Column("subject", String(300), nullable=False),
    Column("status", String(16), nullable=False),
    Column("deliver_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("sent_at", UtcDateTime),
    Column("lease_until", UtcDateTime),
    Column("version", Integer, nullable=False),
    Index("ux_deliveries_key", "key", unique=True),
    Index("ix_deliveries_user_id", "user_id", "id"),
    Index(
        "ix_deliveries_scheduled",
        "deliver_at",
        "id",
        sqlite_where=text("status = 'scheduled'"),
        postgresql_where=text("status = 'scheduled'"),
    ),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("delivery_id", Uuid, nullable=False),
    Column("category", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("data", _JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime),
    Index("ux_notifications_delivery_id", "delivery_id", unique=True),
    Index("ix_notifications_user_id_id", "user_id", "id"),
)

notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("choices", _JSON, nullable=False),  # {"care_reminder": {"email": true}, ...}
    Column("quiet_start", String(8)),  # local wall time "22:00:00"
    Column("quiet_end", String(8)),
    Column("updated_at", UtcDateTime, nullable=False),
)

email_suppressions = Table(
    "email_suppressions",
    metadata,
    Column("email_key", String(254), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


# --- care and health (docs/care.md); every row names its pet and the pet's family -------------

_NOT_NULL_CURSOR = text("next_fire_at IS NOT NULL")

vaccinations = Table(
    "vaccinations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("pet_id", Uuid, ForeignKey("pets.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", Uuid, ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
    Column("vaccine_code", String(40), nullable=False),
    Column("vaccine_name", String(100), nullable=False),
    Column("administered_on", Date, nullable=False),
    Column("next_due_on", Date),
    Column("lot_number", String(40)),
    Column("clinic", String(200)),
    Column("certificate_id", Uuid),
    Column("version", Integer, nullable=False),
    Column("next_fire_at", UtcDateTime),
    Index("ix_vaccinations_pet_id_id", "pet_id", "id"),
    Index(
        "ix_vaccinations_next_fire_at",
        "next_fire_at",
        sqlite_where=_NOT_NULL_CURSOR,
        postgresql_where=_NOT_NULL_CURSOR,
    ),
)

medical_records = Table(
    "medical_records",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("pet_id", Uuid, ForeignKey("pets.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", Uuid, ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("title", String(200), nullable=False),
    Column("notes", Text),
    Column("vet", String(200)),
    Column("file_ids", _JSON, nullable=False),
    Column("created_by", Uuid, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_medical_records_pet_id_id", "pet_id", "id"),
)

care_schedules = Table(
    "care_schedules",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("pet_id", Uuid, ForeignKey("pets.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", Uuid, ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("title", String(100), nullable=False),
    Column("rrule", Text, nullable=False),
    Column("dtstart", DateTime(timezone=False), nullable=False),  # local wall time, no zone
    Column("timezone", String(64), nullable=False),
    Column("notes", Text),
    Column("version", Integer, nullable=False),
    Column("next_fire_at", UtcDateTime),
    Index("ix_care_schedules_pet_id_id", "pet_id", "id"),
    Index(
        "ix_care_schedules_next_fire_at",
        "next_fire_at",
        sqlite_where=_NOT_NULL_CURSOR,
        postgresql_where=_NOT_NULL_CURSOR,
    ),
)

care_completions = Table(
    "care_completions",
    metadata,
    Column("schedule_id", Uuid, ForeignKey("care_schedules.id", ondelete="CASCADE"), primary_key=True),
    Column("occurrence_key", String(100), primary_key=True),
    Column("family_id", Uuid, ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
    Column("completed_by", Uuid, nullable=False),
    Column("completed_at", UtcDateTime, nullable=False),
    Column("occurs_at", UtcDateTime, nullable=False),
    Index("ix_care_completions_schedule_occurs", "schedule_id", "occurs_at"),
)

calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("scope", String(16), nullable=False),
    Column("family_id", Uuid, ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
    Column("pet_id", Uuid, ForeignKey("pets.id", ondelete="CASCADE")),
    Column("token_hash", String(128), nullable=False),
    Column("created_by", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    CheckConstraint(
        "(scope = 'pet' AND pet_id IS NOT NULL) OR (scope = 'family' AND pet_id IS NULL)",
        name="ck_calendar_feeds_scope",
    ),
    Index("ux_calendar_feeds_token_hash", "token_hash", unique=True),
    # One live feed per user and target (rotation revokes the old one in the same transaction).
    Index(
        "ux_calendar_feeds_live_pet",
        "created_by",
        "pet_id",
        unique=True,
        sqlite_where=text("revoked_at IS NULL AND scope = 'pet'"),
        postgresql_where=text("revoked_at IS NULL AND scope = 'pet'"),
    ),
    Index(
        "ux_calendar_feeds_live_family",
        "created_by",
        "family_id",
        unique=True,
        sqlite_where=text("revoked_at IS NULL AND scope = 'family'"),
        postgresql_where=text("revoked_at IS NULL AND scope = 'family'"),
    ),
    Index("ix_calendar_feeds_family_id", "family_id"),
    Index("ix_calendar_feeds_pet_id", "pet_id"),
)
