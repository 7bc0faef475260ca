"""Medical records of a pet: visits, diagnoses, procedures, medications, lab results, allergies."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from attrs import evolve, frozen

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.text import check_text

__all__ = ["MAX_FILES", "MedicalRecord", "MedicalRecordKind"]

MAX_FILES = 20  # attachments per record


class MedicalRecordKind(enum.StrEnum):
    VISIT = "visit"
    DIAGNOSIS = "diagnosis"
    PROCEDURE = "procedure"
    MEDICATION = "medication"
    LAB = "lab"
    ALLERGY = "allergy"
    OTHER = "other"


@frozen
class MedicalRecord:
    """One entry of a pet's health record; `file_ids` are stored files (documents, images)."""

    id: UUID
    pet_id: UUID
    kind: MedicalRecordKind
    occurred_on: date
    title: str
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    notes: str | None = None
    vet: str | None = None
    file_ids: tuple[UUID, ...] = ()
    version: int = 1

    @classmethod
    def create(
        cls,
        record_id: UUID,
        pet_id: UUID,
        kind: MedicalRecordKind,
        occurred_on: date,
        title: str,
        created_by: UUID,
        now: datetime,
        notes: str | None = None,
        vet: str | None = None,
        file_ids: Sequence[UUID] = (),
    ) -> MedicalRecord:
        """A checked record; ValidationFailed naming the field otherwise."""
        if not date(1980, 1, 1) <= occurred_on <= now.date():
            raise ValidationFailed.single("occurred_on", "cannot be in the future or before 1980")
        title = check_text(title, "title", 200)
        notes = check_text(notes, "notes", 10000, min_len=0, multiline=True) or None if notes else None
        vet = check_text(vet, "vet", 200, min_len=0) or None if vet else None
        files = tuple(dict.fromkeys(file_ids))  # duplicates collapse, order kept
        if len(files) > MAX_FILES:
            raise ValidationFailed.single("file_ids", f"at most {MAX_FILES} files per record")
        return cls(record_id, pet_id, kind, occurred_on, title, created_by, now, now, notes, vet, files)

    def revise(
        self,
        kind: MedicalRecordKind,
        occurred_on: date,
        title: str,
        now: datetime,
        notes: str | None,
        vet: str | None,
        file_ids: Sequence[UUID],
    ) -> MedicalRecord:
        """The record with these fields, checked as `create` checks them, one version up."""
        fresh = MedicalRecord.create(
            self.id, self.pet_id, kind, occurred_on, title, self.created_by, now, notes, vet, file_ids
        )
        return evolve(fresh, created_at=self.created_at, version=self.version + 1)

    def without_file(self, file_id: UUID, now: datetime) -> MedicalRecord:
        """The record with one attachment gone (the file was deleted), one version up."""
        kept = tuple(f for f in self.file_ids if f != file_id)
        return evolve(self, file_ids=kept, updated_at=now, version=self.version + 1)
