"""Pets and their descriptive fields."""

from __future__ import annotations

import enum
import math
from datetime import date, datetime
from uuid import UUID

from attrs import define, field

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.text import check_text

__all__ = ["Pet", "PetDraft", "Sex", "Size", "Species", "check_pet_fields"]


class Species(enum.StrEnum):
    DOG = "dog"
    CAT = "cat"
    RABBIT = "rabbit"
    BIRD = "bird"
    OTHER = "other"


class Sex(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class Size(enum.StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@define
class PetDraft:
    """The editable fields of a pet, as a create or update brings them."""

    name: str
    species: Species
    sex: Sex = Sex.UNKNOWN
    breed: str | None = None
    birth_date: date | None = None
    colors: list[str] = field(factory=list)
    size: Size | None = None
    weight_kg: float | None = None
    microchip: Microchip | None = None
    neutered: bool | None = None
    notes: str | None = None


def check_pet_fields(draft: PetDraft, today: date) -> PetDraft:
    """Normalise and check a draft; raises ValidationFailed naming the field."""
    name = check_text(draft.name, "name", 100)
    breed = check_text(draft.breed, "breed", 100, min_len=0) if draft.breed else None
    if draft.birth_date is not None and (draft.birth_date > today or draft.birth_date.year < 1900):
        raise ValidationFailed.single("birth_date", "cannot be in the future or before 1900")
    colors = [check_text(c, "colors", 40).lower() for c in draft.colors if c.strip()]
    if len(colors) > 10:
        raise ValidationFailed.single("colors", "at most 10 colours")
    colors = list(dict.fromkeys(colors))
    w = draft.weight_kg
    if w is not None and (math.isnan(w) or not 0 < w <= 200):
        raise ValidationFailed.single("weight_kg", "a weight above 0 and at most 200 kg")
    notes = check_text(draft.notes, "notes", 5000, min_len=0, multiline=True) if draft.notes else None
    return PetDraft(
        name=name,
        species=draft.species,
        sex=draft.sex,
        breed=breed or None,
        birth_date=draft.birth_date,
        colors=colors,
        size=draft.size,
        weight_kg=w,
        microchip=draft.microchip,
        neutered=draft.neutered,
        notes=notes or None,
    )


@define
class Pet:
    id: UUID
    family_id: UUID
    name: str
    species: Species
    sex: Sex
    created_at: datetime
    updated_at: datetime
    breed: str | None = None
    birth_date: date | None = None
    colors: list[str] = field(factory=list)
    size: Size | None = None
    weight_kg: float | None = None
    microchip: Microchip | None = None
    neutered: bool | None = None
    notes: str | None = None
    version: int = 1

    @classmethod
    def create(cls, pet_id: UUID, family_id: UUID, draft: PetDraft, now: datetime) -> Pet:
        d = check_pet_fields(draft, now.date())
        return cls(
            id=pet_id,
            family_id=family_id,
            name=d.name,
            species=d.species,
            sex=d.sex,
            created_at=now,
            updated_at=now,
            breed=d.breed,
            birth_date=d.birth_date,
            colors=d.colors,
            size=d.size,
            weight_kg=d.weight_kg,
            microchip=d.microchip,
            neutered=d.neutered,
            notes=d.notes,
        )

    def draft(self) -> PetDraft:
        return PetDraft(
            name=self.name,
            species=self.species,
            sex=self.sex,
            breed=self.breed,
            birth_date=self.birth_date,
            colors=list(self.colors),
            size=self.size,
            weight_kg=self.weight_kg,
            microchip=self.microchip,
            neutered=self.neutered,
            notes=self.notes,
        )

    def apply(self, draft: PetDraft, now: datetime) -> None:
        d = check_pet_fields(draft, now.date())
        self.name, self.species, self.sex, self.breed = d.name, d.species, d.sex, d.breed
        self.birth_date, self.colors, self.size = d.birth_date, d.colors, d.size
        self.weight_kg, self.microchip, self.neutered, self.notes = (
            d.weight_kg,
            d.microchip,
            d.neutered,
            d.notes,
        )
        self.updated_at = now
        self.version += 1
