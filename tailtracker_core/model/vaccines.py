"""Vaccinations, their status, and the WSAVA 2016 core schedule suggested from species and birth date."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from uuid import UUID

from attrs import evolve, frozen
from dateutil.relativedelta import relativedelta

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.pets import Species
from tailtracker_core.model.text import check_text

__all__ = [
    "CORE_VACCINES",
    "PlannedDose",
    "SuggestedDose",
    "Vaccination",
    "VaccinationStatus",
    "Vaccine",
    "VaccineSettings",
    "canonical_code",
    "core_schedule",
    "suggested_doses",
    "vaccination_status",
]

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class VaccinationStatus(enum.StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    OK = "ok"
    SUPERSEDED = "superseded"


@frozen
class VaccineSettings:
    """The schedule's settings, with the domain page's defaults."""

    due_soon_days: int = 30
    core_interval_years: int = 3  # DHPP and FVRCP after the 52-week booster
    rabies_interval_years: int = 3  # local law decides
    early_days: int = 7  # a dose this close before a later slot counts for that slot


DEFAULT_SETTINGS = VaccineSettings()


@frozen
class Vaccine:
    code: str  # lower case; compared through canonical_code
    display_name: str


CORE_VACCINES = {
    "dhpp": Vaccine("dhpp", "DHPP (distemper, adenovirus-2, parvovirus)"),
    "rabies": Vaccine("rabies", "Rabies"),
    "fvrcp": Vaccine("fvrcp", "FVRCP (panleukopenia, herpesvirus-1, calicivirus)"),
    "felv": Vaccine("felv", "FeLV (feline leukaemia)"),
}
# Other spellings of the same core components on certificates (L = leptospirosis, i = parainfluenza).
_ALIASES = {
    "dapp": "dhpp",
    "da2pp": "dhpp",
    "dhppi": "dhpp",
    "dhlpp": "dhpp",
    "dhlppi": "dhpp",
    "fvrc": "fvrcp",
}


def canonical_code(code: str) -> str:
    """The code doses are compared by: lower case, known aliases folded."""
    code = code.strip().lower()
    return _ALIASES.get(code, code)


@frozen
class Vaccination:
    """One dose given to a pet."""

    id: UUID
    pet_id: UUID
    vaccine: Vaccine
    administered_on: date
    next_due_on: date | None = None
    lot_number: str | None = None
    clinic: str | None = None
    certificate_id: UUID | None = None  # a stored file
    version: int = 1  # optimistic concurrency: each revision is one above the stored one

    @classmethod
    def record(
        cls,
        dose_id: UUID,
        pet_id: UUID,
        vaccine: Vaccine,
        administered_on: date,
        today: date,
        next_due_on: date | None = None,
        lot_number: str | None = None,
        clinic: str | None = None,
        certificate_id: UUID | None = None,
    ) -> Vaccination:
        """A checked dose; ValidationFailed naming the field otherwise."""
        code = vaccine.code.strip().lower()
        if not _CODE.match(code):
            raise ValidationFailed.single("vaccine_code", "1 to 40 letters, digits, '-' or '_'")
        name = check_text(vaccine.display_name, "vaccine_name", 100)
        if not date(1980, 1, 1) <= administered_on <= today:
            raise ValidationFailed.single("administered_on", "cannot be in the future or before 1980")
        if next_due_on is not None and not administered_on < next_due_on <= date(2100, 12, 31):
            raise ValidationFailed.single("next_due_on", "after administered_on and before 2101")
        lot = check_text(lot_number, "lot_number", 40, min_len=0) or None if lot_number else None
        place = check_text(clinic, "clinic", 200, min_len=0) or None if clinic else None
        return cls(
            dose_id, pet_id, Vaccine(code, name), administered_on, next_due_on, lot, place, certificate_id
        )

    def revise(
        self,
        vaccine: Vaccine,
        administered_on: date,
        today: date,
        next_due_on: date | None,
        lot_number: str | None,
        clinic: str | None,
        certificate_id: UUID | None,
    ) -> Vaccination:
        """The dose with these fields, checked as `record` checks them, one version up."""
        fresh = Vaccination.record(
            self.id,
            self.pet_id,
            vaccine,
            administered_on,
            today,
            next_due_on,
            lot_number,
            clinic,
            certificate_id,
        )
        return evolve(fresh, version=self.version + 1)

    def without_certificate(self) -> Vaccination:
        """The dose with its certificate file gone (the file was deleted), one version up."""
        return evolve(self, certificate_id=None, version=self.version + 1)

    @property
    def code(self) -> str:
        return canonical_code(self.vaccine.code)


def _order(v: Vaccination) -> tuple[date, str]:
    return v.administered_on, str(v.id)  # same-day doses: the id breaks the tie, so one stays current


def _status_of(due: date, today: date, settings: VaccineSettings) -> VaccinationStatus:
    if due < today:
        return VaccinationStatus.OVERDUE
    if due <= today + timedelta(days=settings.due_soon_days):
        return VaccinationStatus.DUE_SOON
    return VaccinationStatus.OK


def vaccination_status(
    v: Vaccination,
    all_doses_of_pet: Iterable[Vaccination],
    today: date,
    settings: VaccineSettings = DEFAULT_SETTINGS,
) -> VaccinationStatus:
    """superseded when a later dose of the same vaccine exists, else by next_due_on (none: ok)."""
    if any(d.code == v.code and _order(d) > _order(v) for d in all_doses_of_pet if d.id != v.id):
        return VaccinationStatus.SUPERSEDED
    if v.next_due_on is None:
        return VaccinationStatus.OK
    return _status_of(v.next_due_on, today, settings)


@frozen
class PlannedDose:
    """A slot of the core schedule: its due date and the recorded dose matched to it, if any."""

    vaccine: Vaccine
    slot: str  # "8 weeks", "52 weeks", "revaccination 1", ...
    index: int
    due_on: date
    dose: Vaccination | None
    skipped: bool  # unfilled, but a later slot is filled: no longer suggested


@frozen
class SuggestedDose:
    """A missing or future dose of the core schedule."""

    vaccine: Vaccine
    slot: str
    index: int
    due_on: date
    status: VaccinationStatus


@frozen
class _Series:
    vaccine: Vaccine
    weeks: tuple[int, ...]
    interval_years: int | None  # None: no revaccination after the last slot
    kitten_only: bool = False  # not suggested for pets older than a year


def _series(species: Species, s: VaccineSettings) -> list[_Series]:
    rabies = _Series(CORE_VACCINES["rabies"], (12, 52), s.rabies_interval_years)
    if species is Species.DOG:
        return [_Series(CORE_VACCINES["dhpp"], (8, 12, 16, 52), s.core_interval_years), rabies]
    if species is Species.CAT:
        fvrcp = _Series(CORE_VACCINES["fvrcp"], (8, 12, 16, 52), s.core_interval_years)
        return [fvrcp, rabies, _Series(CORE_VACCINES["felv"], (8, 12, 52), None, kitten_only=True)]
    return []


def _plan(
    series: _Series, birth: date, doses: Sequence[Vaccination], s: VaccineSettings
) -> list[PlannedDose]:
    matched: dict[int, Vaccination] = {}
    fixed = len(series.weeks)

    def exists(j: int) -> bool:
        return j < fixed or series.interval_years is not None

    def due(j: int) -> date:
        prev = matched.get(j - 1)
        if prev is not None and prev.next_due_on is not None:
            return prev.next_due_on  # the vet's date wins
        if j < fixed:
            return birth + timedelta(weeks=series.weeks[j])
        anchor = prev.administered_on if prev is not None else due(j - 1)
        return anchor + relativedelta(years=series.interval_years or 0)

    nxt = 0
    for dose in doses:
        if not exists(nxt):
            break  # doses beyond a finite series fill nothing
        j = nxt
        while exists(j + 1) and due(j + 1) - timedelta(days=s.early_days) <= dose.administered_on:
            j += 1
        matched[j] = dose
        nxt = j + 1
    last_filled = max(matched, default=-1)
    last = max(fixed - 1, last_filled) + (1 if series.interval_years is not None else 0)
    return [
        PlannedDose(
            series.vaccine,
            f"{series.weeks[j]} weeks" if j < fixed else f"revaccination {j - fixed + 1}",
            j,
            due(j),
            matched.get(j),
            j not in matched and j < last_filled,
        )
        for j in range(last + 1)
    ]


def core_schedule(
    species: Species,
    birth_date: date | None,
    doses: Iterable[Vaccination],
    today: date,
    settings: VaccineSettings = DEFAULT_SETTINGS,
) -> list[PlannedDose]:
    """Every slot of the species' core schedule with the recorded dose matched to it; [] without a
    birth date (ages cannot be dated) or for species without a core schedule."""
    if birth_date is None or birth_date > today:
        return []
    by_code: dict[str, list[Vaccination]] = {}
    for d in sorted(doses, key=_order):
        by_code.setdefault(d.code, []).append(d)
    plan: list[PlannedDose] = []
    for series in _series(species, settings):
        if series.kitten_only and today > birth_date + relativedelta(years=1):
            continue
        plan += _plan(series, birth_date, by_code.get(series.vaccine.code, []), settings)
    return plan


def suggested_doses(
    species: Species,
    birth_date: date | None,
    doses: Iterable[Vaccination],
    today: date,
    settings: VaccineSettings = DEFAULT_SETTINGS,
) -> list[SuggestedDose]:
    """The missing or future doses of the core schedule, by due date, each with its status."""
    plan = core_schedule(species, birth_date, doses, today, settings)
    out = [
        SuggestedDose(p.vaccine, p.slot, p.index, p.due_on, _status_of(p.due_on, today, settings))
        for p in plan
        if p.dose is None and not p.skipped
    ]
    return sorted(out, key=lambda d: (d.due_on, d.vaccine.code, d.index))
