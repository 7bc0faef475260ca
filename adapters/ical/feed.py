"""A feed's content (`tailtracker_core.model.calendar.FeedContent`) as an RFC 5545 VCALENDAR.

- One VEVENT per care schedule: `DTSTART;TZID=<zone>` in the schedule's local wall time, its
  RRULE (UNTIL converted to UTC, as RFC 5545 requires with a zoned DTSTART), a VTIMEZONE for
  each zone used (generated from zoneinfo by `icalendar`), a UID that is the schedule's id.
  Completed occurrences stay in the series; recent ones get an override (RECURRENCE-ID) whose
  SUMMARY starts with a check mark.
- One all-day VEVENT (DTSTART;VALUE=DATE, DTEND the next day, transparent) per vaccination
  falling due, recorded or suggested.

The output is byte-stable for the same content (DTSTAMP is the content's `last_modified`, not
the time of the request), so its hash is a good ETag.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vRecur

from tailtracker_core.model.calendar import DueDate, FeedContent, ScheduledCare
from tailtracker_core.model.care import CareKind

__all__ = ["CONTENT_TYPE", "PRODID", "REFRESH", "render_feed"]

CONTENT_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//TailTracker//Calendar feed 1.0//EN"
REFRESH = timedelta(hours=1)  # what the feed suggests to calendar apps (they may poll less often)
_TZ_LAST = date(2101, 1, 1)  # care schedules end by 2100 (the core's bound)
_LENGTH = {CareKind.VET_VISIT: timedelta(hours=1)}
_DEFAULT_LENGTH = timedelta(minutes=15)
_KIND_LABEL = {
    CareKind.MEDICATION: "Medication",
    CareKind.FEEDING: "Feeding",
    CareKind.GROOMING: "Grooming",
    CareKind.WALK: "Walk",
    CareKind.VET_VISIT: "Vet visit",
    CareKind.OTHER: "Care",
}


@functools.lru_cache(maxsize=256)
def _vtimezone(name: str, first: date) -> bytes:
    """The VTIMEZONE of an IANA zone from `first` on, from zoneinfo (cached: it costs ms)."""
    return Timezone.from_tzinfo(ZoneInfo(name), name, first, _TZ_LAST).to_ical()


def _rrule(care: ScheduledCare) -> vRecur:
    """The schedule's rule; a floating or DATE UNTIL becomes the UTC instant of that local time."""
    rule = vRecur.from_ical(care.schedule.rrule)
    until = rule.get("UNTIL")
    if until:
        value = until[0]
        tz = ZoneInfo(care.schedule.timezone)
        if isinstance(value, datetime):
            local = value if value.tzinfo is None else value.astimezone(tz).replace(tzinfo=None)
        else:  # a DATE: the whole of that local day, as the core reads it
            local = datetime.combine(value, datetime.min.time()).replace(hour=23, minute=59, second=59)
        rule["UNTIL"] = [local.replace(tzinfo=tz).astimezone(UTC)]
    if "WKST" not in rule:
        rule["WKST"] = ["MO"]  # RFC 5545's default, spelled out as the core expands it
    return rule


def _care_events(care: ScheduledCare, stamp: datetime) -> list[Event]:
    s = care.schedule
    tz = ZoneInfo(s.timezone)
    master = Event()
    master.add("uid", care.uid)
    master.add("dtstamp", stamp)
    master.add("dtstart", s.dtstart.replace(tzinfo=tz))
    master.add("duration", _LENGTH.get(s.kind, _DEFAULT_LENGTH))
    master.add("rrule", _rrule(care))
    master.add("summary", care.summary)
    if s.notes:
        master.add("description", s.notes)
    master.add("categories", [_KIND_LABEL[s.kind]])
    master.add("transp", "TRANSPARENT")
    events = [master]
    for done in care.completed:
        override = Event()
        override.add("uid", care.uid)
        override.add("dtstamp", stamp)
        override.add("recurrence-id", done.local_start.replace(tzinfo=tz))
        override.add("dtstart", done.local_start.replace(tzinfo=tz))
        override.add("duration", _LENGTH.get(s.kind, _DEFAULT_LENGTH))
        override.add("summary", f"✓ {care.summary}")
        override.add("description", f"Completed at {done.completed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
        override.add("categories", [_KIND_LABEL[s.kind]])
        override.add("transp", "TRANSPARENT")
        events.append(override)
    return events


def _due_event(due: DueDate, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", due.uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", due.due_on)
    event.add("dtend", due.due_on + timedelta(days=1))
    event.add("summary", due.summary)
    if due.suggested:
        event.add(
            "description",
            f"Suggested by the core vaccination schedule ({due.slot}); record the dose when it is given.",
        )
    event.add("categories", ["Vaccination"])
    event.add("transp", "TRANSPARENT")
    return event


def render_feed(content: FeedContent) -> bytes:
    """The feed as iCalendar text (UTF-8, CRLF line endings, lines folded at 75 octets)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", content.name)  # RFC 7986
    cal.add("x-wr-calname", content.name)  # the name Apple and Google show
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})  # RFC 7986
    cal.add("x-published-ttl", REFRESH)
    stamp = content.last_modified.astimezone(UTC)
    first: dict[str, date] = {}
    for care in content.care:
        zone, start = care.schedule.timezone, care.schedule.dtstart.date() - timedelta(days=1)
        first[zone] = min(first.get(zone, start), start)
    for zone in sorted(first):
        cal.add_component(Timezone.from_ical(_vtimezone(zone, first[zone])))
    for care in content.care:
        for event in _care_events(care, stamp):
            cal.add_component(event)
    for due in content.due:
        cal.add_component(_due_event(due, stamp))
    return cal.to_ical()
