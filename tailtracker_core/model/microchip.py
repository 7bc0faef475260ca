"""Microchip numbers (ISO 11784/11785 and the legacy forms still found in pets)."""

from __future__ import annotations

import re

from attrs import frozen

from tailtracker_core.errors import ValidationFailed

__all__ = ["Microchip", "normalise_microchip"]

_SEPARATORS = re.compile(r"[\s\-.]")
_ALNUM10 = re.compile(r"[0-9A-Z]{10}")


def normalise_microchip(raw: str) -> str:
    """Remove spaces, dashes and dots, upper-case."""
    return _SEPARATORS.sub("", raw).upper()


@frozen
class Microchip:
    """A validated, normalised microchip number."""

    value: str

    @classmethod
    def parse(cls, raw: str, field: str = "microchip") -> Microchip:
        value = normalise_microchip(raw)
        if len(value) == 15 and value.isdigit() and value.isascii():
            prefix = int(value[:3])
            if prefix == 999:
                raise ValidationFailed.single(field, "999 marks a test chip, not a pet's chip")
            if prefix == 0:
                raise ValidationFailed.single(
                    field, "a 15-digit chip starts with a country code 001-899 or a maker code 900-998"
                )
            return cls(value)
        if len(value) == 10 and _ALNUM10.fullmatch(value):
            return cls(value)
        if len(value) == 9 and value.isdigit() and value.isascii():
            return cls(value)
        raise ValidationFailed.single(
            field,
            "a microchip is 15 digits (ISO 11784/11785), 10 letters or digits, or 9 digits (legacy US)",
        )

    @property
    def is_iso(self) -> bool:
        return len(self.value) == 15

    def __str__(self) -> str:
        return self.value
