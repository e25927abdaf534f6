"""Helpers shared by the apps' page forms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def errors_text(errors: Mapping[str, Iterable[str]] | ValidationError, form: forms.Form | None = None) -> str:
    """One line for a page message from form or service errors.

    A field is named by its translated label when the form gives it one; otherwise the message
    stands alone. The internal name (``id_number``, ``agreement_terms``) never reaches the page:
    in a Chinese interface it read as stray English, and the messages say what is wrong anyway."""
    if isinstance(errors, ValidationError):
        if not hasattr(errors, "error_dict"):
            return " ".join(errors.messages)
        errors = errors.message_dict
    parts = []
    for name, messages in errors.items():
        text = " ".join(str(m) for m in messages)
        field = form.fields.get(name) if form is not None and name != NON_FIELD_ERRORS else None
        parts.append(f"{field.label}: {text}" if field is not None and field.label else text)
    return "; ".join(parts)


def personal_input() -> forms.TextInput:
    """The input for a person's name, ID number, phone or address. The browser is asked not to keep
    what is typed in its form history: at a shared reception desk it offered one petitioner's details
    to the next person typing there, outside every reveal and its log."""
    return forms.TextInput(attrs={"autocomplete": "off"})
