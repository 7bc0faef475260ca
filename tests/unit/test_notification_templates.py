"""Every notification template renders in every language with the same placeholders."""

from __future__ import annotations

import pytest

from tailtracker_core.model.notification_templates import (
    LANGUAGES,
    TEMPLATES,
    TemplateError,
    language_of,
    placeholders,
    render,
)
from tailtracker_core.model.reminders import Category

# The templates the code sends, by category (a new category's sender adds its template).
REQUIRED = {
    "care_reminder.medication",
    "care_reminder.feeding",
    "care_reminder.task",
    "care_reminder.vaccination_due",
    "lost_pet_alert",
    "lost_pet_match",
    "sighting",
    "family.invitation",
}


def test_the_required_templates_exist_in_every_language() -> None:
    assert set(TEMPLATES) >= REQUIRED
    for name, texts in TEMPLATES.items():
        assert set(texts) == set(LANGUAGES), name


def test_each_template_is_named_after_a_category() -> None:
    categories = {c.value for c in Category}
    for name in TEMPLATES:
        assert name.split(".")[0] in categories, name


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_language_uses_the_same_placeholders(name: str) -> None:
    english_title, english_body = TEMPLATES[name]["en"]
    wanted = placeholders(english_title) | placeholders(english_body)
    assert wanted, "a template without placeholders tells nothing specific"
    for language in LANGUAGES:
        title, body = TEMPLATES[name][language]
        assert placeholders(title) | placeholders(body) == wanted, (name, language)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_renders_in_every_language(name: str, language: str) -> None:
    title, body = TEMPLATES[name][language]
    params = {p: f"<{p}>" for p in placeholders(title) | placeholders(body)}
    out = render(name, language, params, footer=True)
    for value in params.values():
        assert value in out.title + out.body
    assert "{" not in out.title + out.body
    assert "\n" not in out.title  # a subject is one line
    assert out.body.rstrip().endswith(("settings.", "ein."))


def test_languages_are_chosen_by_locale_with_english_as_fallback() -> None:
    assert [language_of(x) for x in ("de-AT", "DE", "de_CH", "en-GB", "pt-BR", "", None)] == [
        "de",
        "de",
        "de",
        "en",
        "en",
        "en",
        "en",
    ]
    params = {"pet_name": "Biscuit", "seen_at": "14:05", "link": "https://x"}
    assert render("sighting", "de-DE", params).title == "Biscuit wurde gesehen"
    assert render("sighting", "fr-FR", params).title == "Biscuit was seen"


def test_unknown_templates_and_missing_parameters_are_template_errors() -> None:
    with pytest.raises(TemplateError, match="unknown"):
        render("nope", "en", {})
    with pytest.raises(TemplateError, match="pet_name"):
        render("sighting", "en", {"seen_at": "x", "link": "y"})


def test_parameters_are_not_interpreted_as_format_strings() -> None:
    out = render("sighting", "en", {"pet_name": "{link}", "seen_at": "{0}", "link": "L"})
    assert out.title == "{link} was seen"
