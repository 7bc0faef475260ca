"""Housekeeping: `tailtracker purge` deletes rows that only grow (docs/decisions.md D34).

- Sent outbox messages, once older than the retention (7 days by default). Their payloads can
  hold personal data (an invitation's token rides in `invitation.created`, D8); kept a while
  after sending for tracing a delivery, then gone. Unsent messages are never purged.
- Idempotency records, once older than `IDEMPOTENCY_TTL`: after that a retry is not answered
  from them anyway (entrypoints/http/idempotency.py), and otherwise they were purged only per
  user, on that user's next idempotent request.

Batch after batch, each in a transaction of its own, until a batch comes back short: no long
transaction holding locks or bloating one snapshot, and an interrupted run keeps its progress.
"""

from __future__ import annotations

from datetime import timedelta

from attrs import frozen

from tailtracker_core.ports import Clock, OutboxStore, UnitOfWorkFactory

__all__ = ["IDEMPOTENCY_TTL", "PurgeResult", "PurgeSettings", "purge"]

# How long a stored answer to an Idempotency-Key replays; the one definition (the HTTP layer
# imports it). Purged records are exactly those a retry could no longer get.
IDEMPOTENCY_TTL = timedelta(hours=24)


@frozen
class PurgeSettings:
    """TAILTRACKER_OUTBOX_RETENTION_DAYS and TAILTRACKER_PURGE_BATCH (docs/configuration.md)."""

    outbox_retention: timedelta = timedelta(days=7)
    batch: int = 1000  # rows deleted per transaction

    def __attrs_post_init__(self) -> None:
        if self.batch < 1 or self.outbox_retention < timedelta(0):
            raise ValueError("a purge batch is at least 1 row and the retention is not negative")


@frozen
class PurgeResult:
    outbox_sent: int  # sent outbox messages deleted
    idempotency_keys: int  # expired idempotency records deleted


def purge(
    uow_factory: UnitOfWorkFactory, outbox: OutboxStore, clock: Clock, settings: PurgeSettings
) -> PurgeResult:
    """Delete what has outlived its retention; returns how many rows of each went."""
    now = clock.now()  # one cut-off per run: rows that age during it wait for the next run
    sent_before = now - settings.outbox_retention
    sent = 0
    while True:
        n = outbox.purge_sent(sent_before, settings.batch)
        sent += n
        if n < settings.batch:
            break
    keys_before = now - IDEMPOTENCY_TTL
    keys = 0
    while True:
        with uow_factory(None) as uow:  # no row-level security on idempotency_keys
            n = uow.idempotency.purge_expired(keys_before, settings.batch)
            uow.commit()
        keys += n
        if n < settings.batch:
            break
    return PurgeResult(sent, keys)
