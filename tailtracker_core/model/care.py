"""Care schedules: RFC 5545 rules expanded in local wall time, their occurrences and completions."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, time, timedelta
from typing import cast
from uuid import UUID
from zoneinfo import ZoneInfo

from attrs import evolve, frozen
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule as _RRule
from dateutil.rrule import rrulestr

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.accounts import check_timezone
from tailtracker_core.model.text import check_text

__all__ = [
    "EARLY_COMPLETION",
    "MAX_PER_DAY",
    "MAX_RANGE",
    "CareCompletion",
    "CareKind",
    "CareSchedule",
    "Occurrence",
    "check_range",
    "mark_completed",
]

MAX_RANGE = timedelta(days=366)  # the longest window one expansion may cover
MAX_PER_DAY = 24  # a rule may fire at most this often per day (every hour)
EARLY_COMPLETION = timedelta(hours=24)  # an occurrence may be ticked off this long before it starts
FIRST_WITHIN = relativedelta(years=5)  # a rule must fire this soon after DTSTART
_MARGIN = timedelta(days=2)  # covers any UTC offset change (Samoa skipped a whole day in 2011)
_YEARS = (2000, 2100)  # DTSTART and UNTIL bounds
_GREGORIAN_CYCLE = 400  # years after which the calendar repeats exactly (146097 days)

_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYHOUR"}
_PARTS |= {"BYMINUTE", "BYSETPOS", "WKST"}
_FREQS = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY")
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_UNTIL = re.compile(r"^(\d{8})(T(\d{6})(Z?))?$")


class CareKind(enum.StrEnum):
    MEDICATION = "medication"
    FEEDING = "feeding"
    GROOMING = "grooming"
    WALK = "walk"
    VET_VISIT = "vet_visit"
    OTHER = "other"


@frozen
class CareCompletion:
    """Who completed which occurrence, and when."""

    schedule_id: UUID
    occurrence_key: str
    completed_by: UUID
    completed_at: datetime
    occurs_at: datetime | None = None  # the occurrence's UTC start (stored for range queries)


@frozen
class Occurrence:
    """One firing of a schedule: the rule's local wall time and the UTC instant it means."""

    schedule_id: UUID
    key: str  # "<schedule id>@<local wall time, ISO 8601>": stable, for completion and idempotency
    local_start: datetime  # naive wall time as the rule generated it (may not exist: spring forward)
    starts_at: datetime  # aware, UTC
    completion: CareCompletion | None = None

    @property
    def completed(self) -> bool:
        return self.completion is not None


def occurrence_key(schedule_id: UUID, local_start: datetime) -> str:
    """The stable key of the occurrence at this local wall time."""
    return f"{schedule_id}@{local_start.isoformat()}"


def check_range(start: datetime, end: datetime, max_range: timedelta = MAX_RANGE) -> None:
    """ValidationFailed unless [start, end) is an aware range of at most `max_range`."""
    for name, value in (("from", start), ("to", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationFailed.single(name, "a date-time with a UTC offset")
        try:
            year = value.astimezone(UTC).year
        except OverflowError:  # e.g. 9999-12-31T23:00-14:00
            year = 0
        if not 1900 <= year <= 2200:
            raise ValidationFailed.single(name, "a date between 1900 and 2200")
    if end < start:
        raise ValidationFailed.single("to", "must not be before from")
    if end - start > max_range:
        raise ValidationFailed.single("to", f"a range of at most {max_range.days} days")


def _parse_rule(text: str) -> dict[str, str]:
    body = text.strip().upper()
    body = body.removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for piece in body.split(";"):
        name, eq, value = piece.partition("=")
        if not eq or not value:
            raise ValidationFailed.single("rrule", f"'{piece}' is not NAME=VALUE")
        if name not in _PARTS:
            raise ValidationFailed.single("rrule", f"{name} is not supported in care schedules")
        if name in parts:
            raise ValidationFailed.single("rrule", f"{name} is given twice")
        parts[name] = value
    if parts.get("FREQ") not in _FREQS:
        raise ValidationFailed.single("rrule", "FREQ must be one of " + ", ".join(_FREQS))
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValidationFailed.single("rrule", "COUNT and UNTIL must not both be given (RFC 5545)")
    for name, low, high in (("INTERVAL", 1, 1000), ("COUNT", 1, 10000)):
        if name in parts and not (parts[name].isdigit() and low <= int(parts[name]) <= high):
            raise ValidationFailed.single("rrule", f"{name} must be between {low} and {high}")
    return parts


def _until_local(value: str, tz: ZoneInfo) -> datetime:
    """UNTIL as a naive local wall time: UTC values are converted, floating ones and dates are local."""
    m = _UNTIL.match(value)
    if m is None:
        raise ValidationFailed.single("rrule", "UNTIL must look like 20261231T235959Z")
    try:
        day = datetime.strptime(m.group(1), "%Y%m%d")
        if m.group(3) is None:  # a DATE: the whole of that local day
            return day.replace(hour=23, minute=59, second=59)
        wall = datetime.combine(day.date(), datetime.strptime(m.group(3), "%H%M%S").time())
    except ValueError:
        raise ValidationFailed.single("rrule", "UNTIL is not a real date and time") from None
    if m.group(4):
        return wall.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    return wall


def _per_day(parts: dict[str, str]) -> int:
    """An upper bound of how many times the rule fires in one day."""

    def size(name: str) -> int:
        return len(set(parts[name].split(","))) if name in parts else 1

    if parts["FREQ"] == "HOURLY":
        hours = -(-24 // int(parts.get("INTERVAL", "1")))
        return min(hours, size("BYHOUR") if "BYHOUR" in parts else 24) * size("BYMINUTE")
    return size("BYHOUR") * size("BYMINUTE")


def _build(parts: dict[str, str], dtstart: datetime, until: datetime | None) -> _RRule:
    text = ";".join(f"{k}={v}" for k, v in parts.items() if k != "UNTIL")
    if "WKST" not in parts:
        text += ";WKST=MO"  # RFC 5545's default; dateutil would use the process-wide calendar setting
    try:
        rule = rrulestr(text, dtstart=dtstart)
        assert isinstance(rule, _RRule)
        return rule.replace(until=until) if until is not None else rule
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValidationFailed.single("rrule", f"not a valid RFC 5545 rule ({exc})") from None


def _explicit(parts: dict[str, str], dtstart: datetime) -> dict[str, str]:
    """The rule with every part dateutil would take from DTSTART spelled out, so DTSTART can move."""
    out = dict(parts)
    freq = parts["FREQ"]
    if freq != "HOURLY":
        out.setdefault("BYHOUR", str(dtstart.hour))
    out.setdefault("BYMINUTE", str(dtstart.minute))
    if "BYDAY" not in parts and "BYMONTHDAY" not in parts:
        if freq == "WEEKLY":
            out["BYDAY"] = _DAYS[dtstart.weekday()]
        elif freq == "MONTHLY":
            out["BYMONTHDAY"] = str(dtstart.day)
        elif freq == "YEARLY":
            out["BYMONTHDAY"] = str(dtstart.day)
            out.setdefault("BYMONTH", str(dtstart.month))
    return out


def _period_start(parts: dict[str, str], s: datetime, lo: datetime) -> datetime | None:
    """The start of the last whole rule period (a multiple of INTERVAL after DTSTART's) before `lo`."""
    n = int(parts.get("INTERVAL", "1"))
    freq = parts["FREQ"]
    midnight = datetime.combine(s.date(), time())
    if freq in ("HOURLY", "DAILY", "WEEKLY"):
        if freq == "HOURLY":
            base, step = s.replace(minute=0), timedelta(hours=n)
        elif freq == "DAILY":
            base, step = midnight, timedelta(days=n)
        else:
            wkst = _DAYS.index(parts.get("WKST", "MO"))
            base, step = midnight - timedelta(days=(s.weekday() - wkst) % 7), timedelta(weeks=n)
        k = (lo - base) // step
        return base + k * step if k >= 1 else None
    if freq == "MONTHLY":
        base = midnight.replace(day=1)
        k = ((lo.year - base.year) * 12 + lo.month - base.month) // n
        return base + relativedelta(months=k * n) if k >= 1 else None
    base = midnight.replace(month=1, day=1)
    k = (lo.year - base.year) // n
    return base + relativedelta(years=k * n) if k >= 1 else None


@frozen
class CareSchedule:
    """A recurring care task of a pet: an RRULE over a local wall-time DTSTART in an IANA timezone."""

    id: UUID
    pet_id: UUID
    kind: CareKind
    title: str
    rrule: str
    dtstart: datetime  # naive local wall time
    timezone: str
    notes: str | None = None
    version: int = 1  # optimistic concurrency: each revision is one above the stored one

    @classmethod
    def create(
        cls,
        schedule_id: UUID,
        pet_id: UUID,
        kind: CareKind,
        title: str,
        rule: str,
        dtstart: datetime,
        timezone: str,
        notes: str | None = None,
    ) -> CareSchedule:
        """A checked schedule; ValidationFailed naming the field otherwise."""
        title = check_text(title, "title", 100)
        notes = check_text(notes, "notes", 2000, min_len=0, multiline=True) or None if notes else None
        if dtstart.tzinfo is not None:
            raise ValidationFailed.single("dtstart", "a local wall time, without a UTC offset")
        if dtstart.second or dtstart.microsecond:
            raise ValidationFailed.single("dtstart", "a wall time to the minute")
        if not _YEARS[0] <= dtstart.year <= _YEARS[1]:
            raise ValidationFailed.single("dtstart", f"a date between {_YEARS[0]} and {_YEARS[1]}")
        timezone = check_timezone(timezone)
        parts = _parse_rule(rule)
        if _per_day(parts) > MAX_PER_DAY:
            raise ValidationFailed.single("rrule", f"fires more than {MAX_PER_DAY} times a day")
        tz = ZoneInfo(timezone)
        until = _until_local(parts["UNTIL"], tz) if "UNTIL" in parts else None
        if until is not None and not _YEARS[0] <= until.year <= _YEARS[1]:
            raise ValidationFailed.single("rrule", f"UNTIL must be between {_YEARS[0]} and {_YEARS[1]}")
        _build(parts, dtstart, until)  # dateutil's own checks (BYDAY syntax, BYSETPOS range, ...)
        first = _first_occurrence(parts, dtstart)
        if first is None or first > dtstart + FIRST_WITHIN or (until is not None and first > until):
            raise ValidationFailed.single("rrule", "never fires, or not within 5 years of dtstart")
        canonical = ";".join(f"{k}={v}" for k, v in parts.items())
        return cls(schedule_id, pet_id, kind, title, canonical, dtstart, timezone, notes)

    def revise(
        self,
        kind: CareKind,
        title: str,
        rule: str,
        dtstart: datetime,
        timezone: str,
        notes: str | None,
    ) -> CareSchedule:
        """The schedule with these fields, checked as `create` checks them, one version up.
        A changed time or rule gives new occurrence keys; past completions keep the old ones."""
        fresh = CareSchedule.create(self.id, self.pet_id, kind, title, rule, dtstart, timezone, notes)
        return evolve(fresh, version=self.version + 1)

    def next_occurrence(self, after: datetime) -> Occurrence | None:
        """The first occurrence starting at or after `after` (aware), None when the rule has
        ended (COUNT, UNTIL) or fires no more before 2101."""
        if after.tzinfo is None or after.utcoffset() is None:
            raise ValidationFailed.single("from", "a date-time with a UTC offset")
        after = after.astimezone(UTC)
        end = self._end_instant()
        start = after
        step = timedelta(days=2)  # dense rules answer from a small window; sparse ones widen it
        while start <= end:
            hits = self.occurrences_between(start, start + step)
            if hits:
                return hits[0]
            start, step = start + step, MAX_RANGE
        return None

    def _end_instant(self) -> datetime:
        """An instant after which the rule surely fires no more (with the expansion margin)."""
        tz = ZoneInfo(self.timezone)
        parts = self._parts()
        last = datetime(_YEARS[1] + 1, 1, 1)
        if "UNTIL" in parts:
            last = min(last, _until_local(parts["UNTIL"], tz))
        elif "COUNT" in parts:  # at most 10,000 occurrences, counted from DTSTART
            walls = list(_build(parts, self.dtstart, None))
            last = walls[-1] if walls else self.dtstart
        return last.replace(tzinfo=UTC) + _MARGIN

    def occurrences_between(self, start: datetime, end: datetime) -> list[Occurrence]:
        """The occurrences starting in [start, end), by start time; the range is at most MAX_RANGE."""
        check_range(start, end)
        tz = ZoneInfo(self.timezone)
        lo = start.astimezone(tz).replace(tzinfo=None) - _MARGIN
        hi = end.astimezone(tz).replace(tzinfo=None) + _MARGIN
        hits: list[Occurrence] = []
        prefix = f"{self.id}@"  # occurrence_key's, made once (str(UUID) is a tenth of the loop)
        last, ordered = None, True
        offset = cast("Callable[[datetime], timedelta]", tz.utcoffset)  # never None for a ZoneInfo
        for wall in self._walls(lo, hi, tz):
            # fold=0: a wall time in a gap takes the offset from before it, a repeated one its first
            # instant (RFC 5545 3.3.5), which is what zoneinfo does with fold=0. The same instant
            # as wall.replace(tzinfo=tz).astimezone(UTC), a quarter cheaper.
            at = (wall - offset(wall)).replace(tzinfo=UTC)
            if start <= at < end:
                ordered = ordered and (last is None or last < at)
                last = at
                hits.append(Occurrence(self.id, prefix + wall.isoformat(), wall, at))
        if ordered:  # the usual case: no wall time in a gap, so instants rise with wall times
            return hits
        # After a gap, a later wall time can come out earlier, or two can meet: keep the first
        # generated for each instant, by instant.
        found: dict[datetime, Occurrence] = {}
        for o in hits:
            found.setdefault(o.starts_at, o)
        return [found[at] for at in sorted(found)]

    def occurrence(self, key: str) -> Occurrence | None:
        """The occurrence with this key, or None when the rule has no such occurrence."""
        prefix = f"{self.id}@"
        if not key.startswith(prefix):
            return None
        try:
            wall = datetime.fromisoformat(key.removeprefix(prefix))
        except ValueError:
            return None
        if wall.tzinfo is not None or not _YEARS[0] <= wall.year <= _YEARS[1]:
            return None
        at = wall.replace(tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)
        hits = self.occurrences_between(at, at + timedelta(seconds=1))
        return next((o for o in hits if o.key == key), None)

    def complete(self, key: str, completed_by: UUID, now: datetime) -> CareCompletion:
        """Record who completed the occurrence `key`; ValidationFailed when there is no such one yet."""
        occ = self.occurrence(key)
        if occ is None:
            raise ValidationFailed.single("occurrence_key", "not an occurrence of this schedule")
        if occ.starts_at > now + EARLY_COMPLETION:
            raise ValidationFailed.single("occurrence_key", "can be completed from 24 hours before it")
        return CareCompletion(self.id, key, completed_by, now, occ.starts_at)

    def _parts(self) -> dict[str, str]:
        return _parse_rule(self.rrule)

    def _walls(self, lo: datetime, hi: datetime, tz: ZoneInfo) -> list[datetime]:
        """The rule's wall times in [lo, hi], in order: by arithmetic for a plain daily rule (the
        most common, and dateutil's iteration is most of its expansion), by dateutil otherwise."""
        parts = self._parts()
        if parts["FREQ"] == "DAILY" and parts.keys() <= _PLAIN_DAILY:
            until = _until_local(parts["UNTIL"], tz) if "UNTIL" in parts else None
            return _daily_walls(parts, self.dtstart, until, lo, hi)
        return self._expansion(lo, tz).between(lo, hi, inc=True)

    def _expansion(self, lo: datetime, tz: ZoneInfo) -> _RRule:
        """The dateutil rule, with DTSTART moved to the last whole period before `lo` when that is
        exact (no COUNT), so that a query costs the length of its range, not the schedule's age."""
        parts = self._parts()
        until = _until_local(parts["UNTIL"], tz) if "UNTIL" in parts else None
        moved = None if "COUNT" in parts else _period_start(parts, self.dtstart, lo)
        if moved is None:
            return _build(parts, self.dtstart, until)
        return _build(_explicit(parts, self.dtstart), moved, until)


_PLAIN_DAILY = frozenset({"FREQ", "INTERVAL", "UNTIL", "BYHOUR", "BYMINUTE", "WKST"})


def _daily_walls(
    parts: dict[str, str], dtstart: datetime, until: datetime | None, lo: datetime, hi: datetime
) -> list[datetime]:
    """What dateutil's `rrule(DAILY, ...).between(lo, hi, inc=True)` gives for a rule of only
    INTERVAL, BYHOUR, BYMINUTE (and UNTIL, WKST): every INTERVAL-th day from DTSTART's, at each
    hour x minute (DTSTART's when not given) and DTSTART's second, from DTSTART on, up to UNTIL.
    A property test holds it to dateutil."""
    n = int(parts.get("INTERVAL", "1"))
    hours = sorted({int(h) for h in parts["BYHOUR"].split(",")}) if "BYHOUR" in parts else [dtstart.hour]
    minutes = (
        sorted({int(m) for m in parts["BYMINUTE"].split(",")}) if "BYMINUTE" in parts else [dtstart.minute]
    )
    times = [time(h, m, dtstart.second) for h in hours for m in minutes]
    last = hi if until is None else min(hi, until)
    first = max(lo, dtstart)
    day = dtstart.date()
    skip = (first.date() - day).days // n
    if skip > 0:
        day += timedelta(days=skip * n)
    step = timedelta(days=n)
    out: list[datetime] = []
    while day <= last.date():
        for t in times:
            wall = datetime.combine(day, t)
            if wall > last:
                return out
            if wall >= first:
                out.append(wall)
        day += step
    return out


def _first_occurrence(parts: dict[str, str], dtstart: datetime) -> datetime | None:
    """The rule's first wall time, found 400 years on (same calendar) where dateutil stops at year
    9999 quickly even when the rule never fires (it has no other way out of an empty rule)."""
    cycles = (9990 - dtstart.year) // _GREGORIAN_CYCLE
    years = cycles * _GREGORIAN_CYCLE
    start = dtstart.replace(year=dtstart.year + years)
    first = _build({k: v for k, v in parts.items() if k != "UNTIL"}, start, None).after(start, inc=True)
    return None if first is None else first.replace(year=first.year - years)


def mark_completed(
    occurrences: Iterable[Occurrence], completions: Iterable[CareCompletion]
) -> list[Occurrence]:
    """The occurrences with their completion attached (the first recorded one wins)."""
    done: dict[str, CareCompletion] = {}
    for c in sorted(completions, key=lambda c: c.completed_at):
        done.setdefault(c.occurrence_key, c)
    out = []
    for o in occurrences:
        first = done.get(o.key)
        # evolve() only where something changes: most occurrences of a window are not done
        out.append(o if first is None and o.completion is None else evolve(o, completion=first))
    return out
