from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.microchip import Microchip, normalise_microchip
from tailtracker_core.testing.strategies import iso_microchips, microchip_spellings, valid_microchips


@given(microchip_spellings())
def test_any_spelling_of_a_valid_chip_normalises_to_it(pair):
    chip, typed = pair
    assert Microchip.parse(typed).value == chip


@given(valid_microchips)
def test_normalising_is_idempotent(chip):
    once = normalise_microchip(chip)
    assert normalise_microchip(once) == once
    assert Microchip.parse(once) == Microchip.parse(chip)


@given(iso_microchips)
def test_iso_chips_are_fifteen_digits(chip):
    assert Microchip.parse(chip).is_iso


@given(st.text(max_size=30))
def test_anything_else_is_refused_with_a_validation_error_or_accepted_valid(raw):
    try:
        chip = Microchip.parse(raw)
    except ValidationFailed as exc:
        assert exc.errors[0].field == "microchip"
    else:
        assert len(chip.value) in (9, 10, 15)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("999123456789012", "test chip"),
        ("000123456789012", "country code"),
        ("12345678", "a microchip is"),
        ("1234567890123456", "a microchip is"),
        ("12345678901234X", "a microchip is"),
        ("ABCDE-FGHIJ-K", "a microchip is"),
        ("", "a microchip is"),
        ("٣٣٣٣٣٣٣٣٣", "a microchip is"),  # non-ASCII digits are not chip digits
    ],
)
def test_invalid_chips_are_refused_with_a_clear_message(raw, why):
    with pytest.raises(ValidationFailed, match=why):
        Microchip.parse(raw)


def test_known_good_forms():
    assert Microchip.parse("276 0981 0012 3456").value == "276098100123456"
    assert Microchip.parse("985-141-000-123-456").value == "985141000123456"
    assert Microchip.parse("0a1b2c3d4e").value == "0A1B2C3D4E"
    assert Microchip.parse("123.456.789").value == "123456789"


@pytest.mark.parametrize("bad", ["Rex\x00", "Re\x07x", "\x1b[31mRex"])
def test_control_characters_in_text_fields_are_refused(bad):
    # PostgreSQL refuses NUL in text: the core must refuse it first, with the field named.
    from tailtracker_core.model.families import check_family_name
    from tailtracker_core.model.pets import PetDraft, Species, check_pet_fields

    with pytest.raises(ValidationFailed) as err:
        check_pet_fields(PetDraft(name=bad, species=Species.DOG), date(2026, 1, 1))
    assert err.value.errors[0].field == "name"
    with pytest.raises(ValidationFailed):
        check_family_name(bad)
    notes = check_pet_fields(
        PetDraft(name="Rex", species=Species.DOG, notes="line one\nline two\tend"),
        date(2026, 1, 1),
    ).notes
    assert notes == "line one\nline two\tend"
