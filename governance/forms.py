"""Helpers shared by the apps' page forms."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from governance.holiday_calendars import NoticeError, notice_from_text
from governance.text import join_sentences


def errors_text(errors: Mapping[str, Iterable[str]] | ValidationError, form: forms.Form | None = None) -> str:
    """One line for a page message from form or service errors.

    A field is named by its translated label when the form gives it one; otherwise the message
    stands alone. The internal name (``id_number``, ``agreement_terms``) never reaches the page:
    in a Chinese interface it read as stray English, and the messages say what is wrong anyway."""
    if isinstance(errors, ValidationError):
        if not hasattr(errors, "error_dict"):
            return join_sentences(errors.messages)
        errors = errors.message_dict
    parts = []
    for name, messages in errors.items():
        text = join_sentences(messages)
        field = form.fields.get(name) if form is not None and name != NON_FIELD_ERRORS else None
        if field is not None and field.label:
            text = pgettext("a field's label and its error", "%(label)s: %(error)s") % {
                "label": field.label,
                "error": text,
            }
        parts.append(text)
    # "甲：…；乙：…" on a Chinese page, not ASCII colons and semicolons.
    return pgettext("between the errors of several fields", "; ").join(parts)


class SubmissionKeyForm(forms.Form):
    """A form that creates a record: each form shown carries a new key, sent back with it, and the
    service creates one record per key (``governance.services.submitted_before``), so a doubled or
    retried send does not save the record twice. The template renders ``{{ form.submission }}``."""

    submission = forms.UUIDField(required=False, widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound and not _is_uuid(self.data.get(self.add_prefix("submission"))):
            # No key, or a broken one (the field is hidden: an error on it could not be fixed): the
            # send goes on with a new key, which the form shown again carries.
            self.data = self.data.copy()
            self.data[self.add_prefix("submission")] = str(uuid.uuid4())


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def personal_input() -> forms.TextInput:
    """The input for a person's name, ID number, phone or address. The browser is asked not to keep
    what is typed in its form history: at a shared reception desk it offered one petitioner's details
    to the next person typing there, outside every reveal and its log."""
    return forms.TextInput(attrs={"autocomplete": "off"})


class UsernameLimitMixin:
    """Django's login form caps the username only in the browser (``maxlength``): its ``max_length``
    is set after the field is built, so no validator checks it. A longer name went on to
    ``authenticate``, whose failed-attempt row (django-axes, 255 characters) could not store it: a 500
    on the login page and the admin's. Over the model's limit it is a field error, and no attempt is
    made or recorded (the token endpoint has the same limit)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class LoginForm(UsernameLimitMixin, AuthenticationForm):
    """The login page's form (``governance-login``)."""


class AdminLoginForm(UsernameLimitMixin, AdminAuthenticationForm):
    """The admin's login form (``admin.site.login_form``)."""


def own_password_confirmed(request: HttpRequest, password: str) -> bool:
    """Whether ``password`` is the signed-in user's, asked through ``authenticate`` as a login is:
    a wrong one counts towards django-axes' lockout and is logged, and a locked account is refused
    (the middleware answers with the lockout page). Pages that ask for the password again before a
    sensitive change use this, never ``check_password``, which a stolen session could try without
    limit."""
    user = (
        authenticate(request, username=request.user.get_username(), password=password) if password else None
    )
    return user is not None and user.pk == request.user.pk


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django's password change form with the old password checked by ``own_password_confirmed``."""

    def __init__(self, user, *args, request: HttpRequest, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if not own_password_confirmed(self.request, old_password):
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password

    def clean(self):
        # A temporary password an administrator gave is one time only: keeping it is no change.
        cleaned = super().clean()
        new_password = cleaned.get("new_password1")
        if new_password and new_password == cleaned.get("old_password"):
            self.add_error(
                "new_password1",
                ValidationError(
                    _("The new password must differ from the current one."), code="password_same"
                ),
            )
        return cleaned


class HolidayNoticeForm(forms.Form):
    """A year's notice of the State Council as it is printed (governance.holiday_calendars): its year,
    its title, one line per stretch of days off and one per make-up working day. Every problem is
    reported on its box with its line; ``notice`` is the checked notice."""

    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    source = forms.CharField(
        label=gettext_lazy("Title of the notice"),
        max_length=300,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
        help_text=gettext_lazy("The notice's title, number and date, as printed."),
    )
    days_off = forms.CharField(
        label=gettext_lazy("Holidays"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 9, "cols": 40, "class": "vLargeTextField", "spellcheck": "false"}
        ),
        help_text=gettext_lazy(
            "One stretch a line: its name, first day and last day off, weekends inside it included, e.g. "
            "“春节 2026-02-15 2026-02-23” (a single day may give its date once)."
        ),
    )
    working_days = forms.CharField(
        label=gettext_lazy("Make-up working days"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 7, "cols": 40, "class": "vLargeTextField", "spellcheck": "false"}
        ),
        help_text=gettext_lazy(
            "One Saturday or Sunday worked a line: its name and date, e.g. “春节调休上班 2026-02-14”."
        ),
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.notice = notice_from_text(
                data["year"], data["source"], data.get("days_off", ""), data.get("working_days", "")
            )
        except NoticeError as error:
            for problem in error.errors:
                if problem.line:
                    message = _("Line %(line)d: %(problem)s") % {
                        "line": problem.line,
                        "problem": problem.message,
                    }
                else:
                    message = problem.message
                self.add_error(problem.field, message)
        return data
