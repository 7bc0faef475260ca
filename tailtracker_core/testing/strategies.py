"""Hypothesis strategies for the core's values, for our tests and for embedders' tests."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime

from hypothesis import strategies as st

from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import PetDraft, Sex, Size, Species
from tailtracker_core.model.roles import Role

__all__ = [
    "aware_datetimes",
    "emails",
    "iso_microchips",
    "microchip_spellings",
    "passwords",
    "pet_drafts",
    "roles",
    "valid_microchips",
]

roles = st.sampled_from(list(Role))

emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=20),
    st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=15),
    st.sampled_from(["com", "org", "de", "co.uk", "example"]),
)

# Long random passwords are never on the common list.
passwords = st.text(st.characters(codec="utf-8"), min_size=16, max_size=64)

aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)

iso_microchips = st.builds(
    lambda prefix, rest: f"{prefix:03d}{rest}",
    st.integers(1, 998),
    st.text(string.digits, min_size=12, max_size=12),
)

valid_microchips = st.one_of(
    iso_microchips,
    st.text(string.ascii_uppercase + string.digits, min_size=10, max_size=10),
    st.text(string.digits, min_size=9, max_size=9),
)


@st.composite
def microchip_spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(a valid chip, the same chip as a person might type it: separators, lower case)."""
    chip = draw(valid_microchips)
    out = []
    for ch in chip:
        out.append(ch.lower() if draw(st.booleans()) else ch)
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from([" ", "-", ".", "  "])))
    return chip, "".join(out)


pet_drafts = st.builds(
    PetDraft,
    name=st.text(string.ascii_letters + " ", min_size=1, max_size=30).filter(lambda s: s.strip()),
    species=st.sampled_from(list(Species)),
    sex=st.sampled_from(list(Sex)),
    breed=st.none() | st.text(string.ascii_letters, min_size=1, max_size=20),
    birth_date=st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2024, 12, 31)),
    colors=st.lists(st.sampled_from(["black", "white", "tan", "grey", "ginger"]), max_size=3),
    size=st.none() | st.sampled_from(list(Size)),
    weight_kg=st.none() | st.floats(0.1, 90, allow_nan=False),
    microchip=st.none() | valid_microchips.map(Microchip.parse),
    neutered=st.none() | st.booleans(),
    notes=st.none() | st.text(max_size=50),
)
