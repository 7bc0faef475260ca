"""The texts of notifications: a catalog of (title, body) per template and language.

Pure data and `str.format` placeholders, no template engine: the texts are short, plain text,
and the same placeholders must appear in every language (a test checks it). The title is
the email subject and the in-app title; the body is the email text and the in-app body.
Add a language by adding a column to every template; add a template by adding all languages.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from attrs import frozen

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "TEMPLATES",
    "Rendered",
    "TemplateError",
    "language_of",
    "placeholders",
    "render",
]

DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "de")


class TemplateError(ValueError):
    """An unknown template or a missing parameter: the delivery cannot be rendered, ever."""


@frozen
class Rendered:
    title: str
    body: str


_FOOTER = {
    "en": "\n\n--\nTailTracker. Change which notifications you get in the app's settings.\n",
    "de": "\n\n--\nTailTracker. Welche Benachrichtigungen du bekommst, stellst du in der App ein.\n",
}

# template -> language -> (title, body)
TEMPLATES: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "care_reminder.medication": {
        "en": (
            "Medication for {pet_name}: {task_title}",
            "It is time to give {pet_name} their medication: {task_title} (due {due_local}).",
        ),
        "de": (
            "Medikament für {pet_name}: {task_title}",
            "Es ist Zeit für das Medikament von {pet_name}: {task_title} (fällig {due_local}).",
        ),
    },
    "care_reminder.feeding": {
        "en": (
            "Feeding time for {pet_name}",
            "It is time to feed {pet_name}: {task_title} (due {due_local}).",
        ),
        "de": (
            "Fütterungszeit für {pet_name}",
            "Es ist Zeit, {pet_name} zu füttern: {task_title} (fällig {due_local}).",
        ),
    },
    "care_reminder.task": {
        "en": (
            "Reminder for {pet_name}: {task_title}",
            "A care task for {pet_name} is due: {task_title} (due {due_local}).",
        ),
        "de": (
            "Erinnerung für {pet_name}: {task_title}",
            "Eine Pflegeaufgabe für {pet_name} ist fällig: {task_title} (fällig {due_local}).",
        ),
    },
    "care_reminder.vaccination_due": {
        "en": (
            "{pet_name}'s {vaccine} vaccination is due on {due_on}",
            "{pet_name}'s {vaccine} vaccination falls due on {due_on}, in {days} day(s). "
            "Book a visit with your vet.",
        ),
        "de": (
            "Die Impfung {vaccine} von {pet_name} ist am {due_on} fällig",
            "Die Impfung {vaccine} von {pet_name} ist am {due_on} fällig, in {days} Tag(en). "
            "Vereinbare einen Termin bei deiner Tierärztin oder deinem Tierarzt.",
        ),
    },
    "lost_pet_alert": {
        "en": (
            "Lost {species} near you: {pet_name}",
            "{pet_name}, a {species}, was lost {distance_km} km from your alert location. "
            "Keep an eye out and report a sighting here:\n{link}",
        ),
        "de": (
            "Vermisstes Tier in deiner Nähe: {pet_name} ({species})",
            "{pet_name} ({species}) wird {distance_km} km von deinem Alarm-Standort entfernt "
            "vermisst. Halte die Augen offen und melde eine Sichtung hier:\n{link}",
        ),
    },
    "lost_pet_match": {
        "en": (
            "A possible match for {pet_name}",
            "A found-pet report may match {pet_name} (score {score}, {distance_km} km away). "
            "Have a look:\n{link}",
        ),
        "de": (
            "Ein möglicher Treffer für {pet_name}",
            "Eine Fundmeldung könnte zu {pet_name} passen (Übereinstimmung {score}, "
            "{distance_km} km entfernt). Sieh sie dir an:\n{link}",
        ),
    },
    "sighting": {
        "en": (
            "{pet_name} was seen",
            "Someone reported seeing {pet_name} at {seen_at}. See where:\n{link}",
        ),
        "de": (
            "{pet_name} wurde gesehen",
            "Jemand hat {pet_name} um {seen_at} gesehen. Sieh nach, wo:\n{link}",
        ),
    },
    "family.invitation": {
        "en": (
            "{inviter} invited you to {family}",
            '{inviter} invited you to join the family "{family}" on TailTracker. Open:\n{link}',
        ),
        "de": (
            "{inviter} hat dich zu {family} eingeladen",
            '{inviter} hat dich eingeladen, der Familie "{family}" auf TailTracker beizutreten. '
            "Öffne:\n{link}",
        ),
    },
}


def language_of(locale: str | None) -> str:
    """The catalog language for a BCP 47 locale ("de-AT" -> "de"); English when unknown."""
    language = (locale or "").split("-")[0].split("_")[0].lower()
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def placeholders(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def render(template: str, locale: str | None, params: Mapping[str, str], *, footer: bool = False) -> Rendered:
    """Title and body in the locale's language; TemplateError for an unknown template or a
    missing parameter. `footer` adds the email footer."""
    texts = TEMPLATES.get(template)
    if texts is None:
        raise TemplateError(f"unknown notification template {template!r}")
    language = language_of(locale)
    title, body = texts[language]
    try:
        rendered = Rendered(title.format_map(params), body.format_map(params))
    except (KeyError, IndexError, ValueError) as error:
        raise TemplateError(f"template {template!r} needs parameter {error}") from None
    if footer:
        rendered = Rendered(rendered.title, rendered.body + _FOOTER[language])
    return rendered
