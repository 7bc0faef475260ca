"""The neighbourhood alert fan-out of a newly opened lost report, one batch at a time.

The worker calls `alert_batch(deps, report_id, after)` once per message: it pages through
`GeoIndex.alert_candidates` (users whose alert area holds the report's last-seen point, in
user-id order after the cursor), applies the core rule (`lost_found.alert_recipients`:
`location_alerts` consent, not in the pet's family, within both radii), claims each alert in
the `AlertLedger` (once per report and recipient, at most `daily_cap` per recipient and
local day, atomically) and enqueues in-app and email deliveries through the notifications
API, all in ONE transaction per batch. It returns the cursor of the next batch, or None when
the fan-out is done. A batch that is re-run (a worker killed before it acknowledged its
message) claims nothing twice, so it sends nothing twice. See docs/lost-and-found.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from attrs import frozen

from tailtracker_core.model.consent import Purpose, current_consents
from tailtracker_core.model.lost_found import AlertCandidate, AlertSettings, alert_recipients
from tailtracker_core.model.notifications import Delivery, requests_for
from tailtracker_core.model.reminders import Category
from tailtracker_core.ports import UnitOfWork
from tailtracker_core.usecases.deps import Deps
from tailtracker_core.usecases.lost_found import geo_of, pet_name
from tailtracker_core.usecases.notifications import enqueue, recipients

__all__ = [
    "ALERT_SUBJECT_PREFIX",
    "BatchResult",
    "alert_batch",
    "alert_subject",
    "still_wanted",
    "still_wanted_many",
]

ALERT_SUBJECT_PREFIX = "lost_pet_alert:"


def alert_subject(report_id: UUID) -> str:
    """The deliveries' subject: their keys are `lost_pet_alert:<report>|<user>|<channel>`."""
    return f"{ALERT_SUBJECT_PREFIX}{report_id}"


@frozen
class BatchResult:
    candidates: int  # users the geo index returned for this page
    alerted: int  # of them, alerted now (claimed in the ledger and enqueued)
    next_after: UUID | None  # the cursor of the next batch; None: the fan-out is done


def _local_day(now: datetime, timezone: str) -> datetime:
    try:
        return now.astimezone(ZoneInfo(timezone))
    except (KeyError, ValueError):  # a zone the tz database no longer knows: UTC
        return now


def alert_batch(
    deps: Deps,
    report_id: UUID,
    after: UUID | None,
    batch_size: int = 500,
    settings: AlertSettings | None = None,
) -> BatchResult:
    """Alert one page of candidates of an open report (see the module docstring). A report
    that is no longer open alerts nobody and ends the fan-out."""
    settings = settings or AlertSettings()
    now = deps.clock.now()
    with deps.uow(None) as uow:
        open_pets = uow.lost_reports.open_lost_pets([report_id])
    if not open_pets:
        return BatchResult(0, 0, None)
    # The geo index reads on its own connection: asked outside the batch's transaction (on
    # SQLite a writing transaction would block it).
    first = open_pets[0].report
    page = geo_of(deps).alert_candidates(first.location, first.radius_km, after, batch_size)
    if not page:
        return BatchResult(0, 0, None)
    with deps.uow(None) as uow:
        open_pets = uow.lost_reports.open_lost_pets([report_id])
        if not open_pets:
            return BatchResult(0, 0, None)  # resolved meanwhile: nobody is alerted
        lost = open_pets[0]
        report = lost.report
        family = set(uow.families.member_ids(report.family_id))
        users = {u.id: u for u in uow.users.get_many([uid for uid, _ in page])}
        histories = uow.consents.histories([uid for uid, _ in page])
        candidates = []
        for uid, _ in page:
            user = users.get(uid)
            where = user.alert_location if user else None
            if user is None or where is None or user.alert_radius_km is None:
                continue
            consents = current_consents(histories.get(uid, []))
            granted = consents.get(Purpose.LOCATION_ALERTS)
            candidates.append(
                AlertCandidate(
                    user_id=uid,
                    alert_location=where,
                    alert_radius_km=user.alert_radius_km,
                    consented=granted is not None and granted.granted,
                    family_ids=frozenset({report.family_id}) if uid in family else frozenset(),
                    alerts_today=0,  # the cap is the ledger's claim below (atomic across batches)
                )
            )
        alerts = alert_recipients(report, candidates, settings)
        people = {r.user_id: r for r in recipients(uow, [a.recipient_id for a in alerts], known=users)}
        name = pet_name(uow, report.id)
        params = {
            "pet_name": name,
            "species": lost.species.value,
            "link": f"{deps.config.public_base_url.rstrip('/')}/v1/lost-reports/{report.id}",
            "report_id": str(report.id),
        }
        wanted = [(a, people[a.recipient_id]) for a in alerts if a.recipient_id in people]
        days = [(a.recipient_id, _local_day(now, p.timezone).date()) for a, p in wanted]
        # Once per report and user, at most the daily cap a day: alerted before (a re-run) or at
        # today's cap, a user is not claimed and gets nothing.
        claimed = uow.alert_ledger.claim_many(report.id, days, settings.daily_cap, now)
        requests = []
        for alert, person in wanted:
            if alert.recipient_id not in claimed:
                continue
            requests += requests_for(
                [person],
                Category.LOST_PET_ALERT,
                alert_subject(report.id),
                "lost_pet_alert",
                {**params, "distance_km": f"{alert.distance_km:.1f}"},
                now,
            )
        # One enqueue per batch: the deliveries go in with as few statements as the store allows,
        # and the worker gets one message per chunk of them (deliver_batch), not one per delivery.
        added = enqueue(uow, deps.ids, now, requests, in_batches=True)
        alerted = len({r.user_id for r, ok in zip(requests, added, strict=True) if ok})
        uow.commit()
    next_after = page[-1][0] if len(page) >= batch_size else None
    return BatchResult(len(page), alerted, next_after)


def still_wanted(uow: UnitOfWork, delivery: Delivery) -> bool:
    """Asked by the delivery worker right before a lost-pet alert goes out (acting as the
    recipient): the `location_alerts` consent must still be granted (domain.md, "Consent":
    checked at send time) and the report still open (a pet found meanwhile needs no alert)."""
    return delivery.id in still_wanted_many(uow, [delivery])


def _report_of(delivery: Delivery) -> UUID | None:
    if not delivery.subject.startswith(ALERT_SUBJECT_PREFIX):
        return None
    try:
        return UUID(delivery.subject.removeprefix(ALERT_SUBJECT_PREFIX))
    except ValueError:
        return None


def still_wanted_many(uow: UnitOfWork, deliveries: Sequence[Delivery]) -> set[UUID]:
    """`still_wanted` for a chunk of alert deliveries (the batch delivery worker, acting for
    nobody): one query for the recipients' consent histories, one for which of their reports
    are still open. Returns the ids of the deliveries still wanted."""
    histories = uow.consents.histories(list(dict.fromkeys(d.user_id for d in deliveries)))
    report_of = {d.id: _report_of(d) for d in deliveries}
    reports = {r for r in report_of.values() if r is not None}
    still_open = (
        {lp.report.id for lp in uow.lost_reports.open_lost_pets(sorted(reports))} if reports else set()
    )
    wanted: set[UUID] = set()
    for d in deliveries:
        granted = current_consents(histories.get(d.user_id, [])).get(Purpose.LOCATION_ALERTS)
        if granted is None or not granted.granted:
            continue
        report = report_of[d.id]
        if report is not None and report not in still_open:
            continue
        wanted.add(d.id)
    return wanted
