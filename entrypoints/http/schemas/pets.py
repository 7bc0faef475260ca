"""Pets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, PetDraft, Sex, Size, Species
from tailtracker_core.usecases.deps import UNSET as CORE_UNSET
from tailtracker_core.usecases.pets import PetChanges

from . import utc

__all__ = ["PetIn", "PetOut", "PetPage", "PetPatch"]

Name = Annotated[str, Meta(min_length=1, max_length=100, examples=["Biscuit"])]
Breed = Annotated[str, Meta(max_length=100)]
Colors = Annotated[list[Annotated[str, Meta(max_length=40)]], Meta(max_length=10)]
Weight = Annotated[float, Meta(gt=0, le=200)]
Chip = Annotated[str, Meta(max_length=32, description="15 digits (ISO), 10 alphanumerics or 9 digits.")]
Notes = Annotated[str, Meta(max_length=5000)]


def _chip(raw: str | None) -> Microchip | None:
    return None if raw is None or not raw.strip() else Microchip.parse(raw)


class PetIn(msgspec.Struct, forbid_unknown_fields=True):
    family_id: UUID
    name: Name
    species: Species
    sex: Sex = Sex.UNKNOWN
    breed: Breed | None = None
    birth_date: date | None = None
    colors: Colors = []
    size: Size | None = None
    weight_kg: Weight | None = None
    microchip: Chip | None = None
    neutered: bool | None = None
    notes: Notes | None = None

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
            microchip=_chip(self.microchip),
            neutered=self.neutered,
            notes=self.notes,
        )


class PetPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change; `null` clears an optional field."""

    name: Name | UnsetType = UNSET
    species: Species | UnsetType = UNSET
    sex: Sex | UnsetType = UNSET
    breed: Breed | UnsetType | None = UNSET
    birth_date: date | UnsetType | None = UNSET
    colors: Colors | UnsetType = UNSET
    size: Size | UnsetType | None = UNSET
    weight_kg: Weight | UnsetType | None = UNSET
    microchip: Chip | UnsetType | None = UNSET
    neutered: bool | UnsetType | None = UNSET
    notes: Notes | UnsetType | None = UNSET

    def changes(self) -> PetChanges:
        given = {
            name: getattr(self, name) for name in self.__struct_fields__ if getattr(self, name) is not UNSET
        }
        if "microchip" in given:
            given["microchip"] = _chip(given["microchip"])
        if "colors" in given:
            given["colors"] = list(given["colors"])
        return PetChanges(**{name: given.get(name, CORE_UNSET) for name in self.__struct_fields__})


class PetOut(msgspec.Struct):
    id: UUID
    family_id: UUID
    name: str
    species: Species
    breed: str | None
    sex: Sex
    birth_date: date | None
    colors: list[str]
    size: Size | None
    weight_kg: float | None
    microchip: str | None
    neutered: bool | None
    notes: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_pet(cls, pet: Pet) -> PetOut:
        return cls(
            id=pet.id,
            family_id=pet.family_id,
            name=pet.name,
            species=pet.species,
            breed=pet.breed,
            sex=pet.sex,
            birth_date=pet.birth_date,
            colors=list(pet.colors),
            size=pet.size,
            weight_kg=pet.weight_kg,
            microchip=str(pet.microchip) if pet.microchip else None,
            neutered=pet.neutered,
            notes=pet.notes,
            created_at=utc(pet.created_at),
            updated_at=utc(pet.updated_at),
        )


class PetPage(msgspec.Struct):
    items: list[PetOut]
    next_cursor: str | None
