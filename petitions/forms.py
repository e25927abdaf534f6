"""Forms of the petitions pages: validation of the shapes only; the services decide the rest."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.forms import SubmissionKeyForm, personal_input
from governance.models import User
from governance.workflow import validate_form_state
from petitions.models import WORKFLOW, Category, Petition
from petitions.selectors import intake_area_choices, intake_unit_choices
from petitions.services import registration_day

# The longest texts a page or the API takes: a petition's content (a letter of several pages, typed
# in), a reply's written opinion, and a step's note. Longer is a mistake (a pasted document), not data.
CONTENT_MAX = 20000
NOTE_MAX = 4000

PERSON_FIELDS = ("name", "id_number", "phone", "address")
PERSON_LABELS = {
    "name": pgettext_lazy("person", "Name"),  # as a dispute party's (mediation)
    "id_number": _("ID number"),
    "phone": _("Phone"),
    "address": _("Address"),
}


# Petitioner rows of the intake page: the five representatives a group visit may choose, and room
# for the signatories of a joint letter or online message (the API takes up to MAX_NAMED_PETITIONERS).
INTAKE_ROWS = 10


def _refresh(field: str, include: str, trigger: str) -> dict[str, Any]:
    """HTMX attributes of an intake select whose options ``views.intake_choices`` redraws."""
    return {
        "hx-get": reverse_lazy("petitions-intake-choices"),
        "hx-trigger": trigger,
        "hx-target": "this",
        "hx-swap": "innerHTML",
        "hx-include": include,
        "hx-vals": json.dumps({"field": field}),
        # Its own queue: inherited from the form, the repeat check's "queue last" dropped this one.
        "hx-sync": "this:replace",
    }


def receipt_day(typed: Any) -> dt.date | None:
    """The day the intake page's area list is for: that of the receipt time as the page sends it
    (``services.registration_day``: today for a refused time); None (today) when it does not parse."""
    try:
        value = IntakeForm.base_fields["received_at"].clean(typed)
    except ValidationError:
        return None
    return registration_day(value, timezone.now())


class IntakeForm(SubmissionKeyForm):
    """The reception-desk form. Field order is the keyboard order: how the petition came in, who came
    (the repeat check runs as soon as an ID number or phone is typed), then what it is about."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Petition.Channel.choices, initial="visit")
    received_at = forms.DateTimeField(
        label=_("Received at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    persons_count = forms.IntegerField(label=_("Number of persons"), min_value=1, max_value=100000, initial=1)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        for i in range(INTAKE_ROWS):
            for name in PERSON_FIELDS:
                field = forms.CharField(
                    label=PERSON_LABELS[name],
                    required=False,
                    max_length=300 if name == "address" else 100,
                    widget=personal_input(),
                )
                field.widget.attrs.update({"class": f"pet-person pet-{name}", "data-row": str(i)})
                if name in ("id_number", "phone"):
                    field.widget.attrs["inputmode"] = "numeric" if name == "phone" else "text"
                self.fields[f"p{i}_{name}"] = field
        if not self.is_bound:
            # A fresh form starts at the first petitioner's name. A refused one does not: app.js
            # takes the focus to the first field in error, and the browser's autofocus could run
            # after it (or before, while the page was still loading) and move it back to the top.
            self.fields["p0_name"].widget.attrs["autofocus"] = True
        # Category and handling type start blank and must be chosen: a preselected one (the first
        # category, "claim") was registered without the officer having looked at it, and the type
        # decides the route and what the reply must state.
        self.fields["category"] = forms.ChoiceField(
            label=_("Category"),
            choices=[("", _("Choose a category")), *Category.choices],
            error_messages={"required": _("Choose a category.")},
        )
        # The officer's own area, as registration holds it (``OFFICER_ROLES``): a wider role of the same
        # person (a city-wide analyst) offered areas the registration then refused. The code is checked
        # by the service (``_resolve_area``), which takes every area of that scope: the select lists
        # them grouped by district, narrowed for a wide scope (``selectors.intake_area_choices``), and
        # picking a street there asks the page for its communities (``views.intake_choices``).
        self.fields["area"] = forms.CharField(
            label=_("Area concerned"),
            error_messages={"required": _("Choose the area concerned.")},
            widget=forms.Select,
        )
        self.fields["handling_type"] = forms.ChoiceField(
            label=_("Handling type"),
            choices=[("", _("Choose the handling type")), *Petition.HandlingType.choices],
            error_messages={"required": _("Choose the handling type.")},
        )
        self.fields["content"] = forms.CharField(
            label=_("Content"),
            required=False,
            max_length=CONTENT_MAX,
            widget=forms.Textarea(attrs={"rows": 4}),
        )
        # Any department the officer may name (``routable_departments``, checked by the service); the
        # list follows the area concerned (``selectors.intake_unit_choices``).
        self.fields["complained_unit"] = forms.CharField(
            label=_("Unit complained about"), required=False, widget=forms.Select
        )
        area_chosen, unit_chosen = (str(self[n].value() or "") for n in ("area", "complained_unit"))
        # The areas in service on the receipt day, as the registration takes (a petition received
        # before its community was merged away still names it): the list follows that field too.
        received_on = receipt_day(self["received_at"].value()) if self.is_bound else None
        areas, _narrowed = intake_area_choices(user, area_chosen, received_on)
        units, units_narrowed = intake_unit_choices(user, area_chosen, unit_chosen, received_on)
        self.fields["area"].widget.choices = [("", _("Choose the area concerned")), *areas]
        self.fields["complained_unit"].widget.choices = [("", _("No unit complained about")), *units]
        # Narrowed lists follow the choice, the area list the receipt day: only their options are
        # fetched and swapped (the selects stay, with what the repeat check listens to). The area's
        # own change asks too, even for a complete list: an area picked while the list for a new
        # receipt time was on its way was reset to "choose" when that list arrived; the pick now
        # replaces that request with one that carries it (hx-sync "replace"), kept selected.
        self.fields["area"].widget.attrs.update(
            _refresh("area", "this, #id_received_at", "change, change from:#id_received_at")
        )
        if units_narrowed:
            self.fields["complained_unit"].widget.attrs.update(
                # Its own change too: a unit picked while the list for a new area was on its way was
                # reset when that list arrived; picking one now replaces that request with one that
                # carries the pick (hx-sync "replace"), and the answer keeps it selected.
                # The receipt time too: the area's line is that of the areas in service that day.
                _refresh("complained_unit", "#id_area, this, #id_received_at", "change from:#id_area, change")
            )
        self.fields["repeat_of"] = forms.CharField(required=False, widget=forms.HiddenInput)

    def more_rows_typed(self) -> bool:
        """Whether a row past the first two holds something: the page then shows the rows it folds away."""
        return any(self[f"p{i}_{n}"].value() for i in range(2, INTAKE_ROWS) for n in PERSON_FIELDS)

    def person_rows(self) -> list[list[forms.BoundField]]:
        return [[self[f"p{i}_{n}"] for n in PERSON_FIELDS] for i in range(INTAKE_ROWS)]

    def matter_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("category", "area", "handling_type", "content", "complained_unit")]

    def petitioners(self) -> list[dict[str, str]]:
        """The rows typed in, in order. ``row_numbers`` keeps which input row each one came from:
        the service numbers the rows it gets, and an error for the second of rows 1 and 3 belongs
        under row 3."""
        data = self.cleaned_data
        rows = []
        self.row_numbers: list[int] = []
        for i in range(INTAKE_ROWS):
            row = {n: (data.get(f"p{i}_{n}") or "").strip() for n in PERSON_FIELDS}
            if any(row.values()):
                rows.append(row)
                self.row_numbers.append(i)
        return rows

    def service_kwargs(self) -> dict[str, Any]:
        """What ``services.petition_register`` takes, from what the form could read: a field the form
        refused is passed as missing, and its service error is then dropped (``add_service_error``)."""
        d = self.cleaned_data
        return {
            "channel": d.get("channel", ""),
            "received_at": d.get("received_at"),
            "persons_count": d.get("persons_count"),
            "category": d.get("category", ""),
            "area": d.get("area"),
            "handling_type": d.get("handling_type", ""),
            "content": d.get("content", ""),
            "complained_unit": d.get("complained_unit"),
            "repeat_of": d.get("repeat_of") or None,
            "petitioners": self.petitioners(),
        }

    def add_service_error(self, field: str, message: str) -> None:
        """Put a service error (``petitioners[1].phone``) at its input. A field the form has already
        flagged keeps its own message: the service only saw it as missing."""
        if field == "petitioners":
            # About the rows as a whole (none typed, six at a visit): under the petitioners' heading,
            # where the page shows it, not at the top of the form, a screen away from the rows. It has
            # an id (``id_petitioners_error``) as a field's errors have.
            field_id = self.auto_id % field if self.auto_id else None
            errors = self.errors.setdefault(
                field, self.error_class(renderer=self.renderer, field_id=field_id)
            )
            errors.append(message)
            if not getattr(self, "row_numbers", None) and field_id:
                # None typed: the first name is the field to fill. Marked and described by the error,
                # it takes the focus there (static/js/app.js), with its own error too if it has one.
                described = [f"{field_id}_error"]
                if "p0_name" in self.errors:
                    described.append(self["p0_name"].auto_id + "_error")
                self.fields["p0_name"].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": " ".join(described)}
                )
            return
        target = field if field in self.fields else None
        if field.startswith("petitioners[") and "]." in field:
            index, name = field[len("petitioners[") :].split("].", 1)
            numbers = getattr(self, "row_numbers", [])
            row = numbers[int(index)] if int(index) < len(numbers) else int(index)
            target = f"p{row}_{name}"
        if target is not None and target in self.errors:
            return
        self.add_error(target, message)


class ActionForm(forms.Form):
    """One workflow step from the petition page; the model checks the action's own fields."""

    action = forms.ChoiceField(choices=[(a, a) for a in WORKFLOW.actions])
    # The petition's status when the form was drawn: a form sent twice is answered as done, not a 409.
    state = forms.CharField(required=False, max_length=60, validators=[validate_form_state])
    note = forms.CharField(required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2}))
    department = forms.IntegerField(required=False)
    route = forms.ChoiceField(required=False, choices=[("", "---"), *Petition.Route.choices])
    days = forms.IntegerField(required=False)
    approver = forms.CharField(required=False, max_length=150)
    notified = forms.BooleanField(required=False)
    opinion = forms.ChoiceField(
        required=False, choices=[("", "---"), *Petition.Opinion.choices, *Petition.Adoption.choices]
    )
    text = forms.CharField(required=False, max_length=CONTENT_MAX)
    evaluation = forms.ChoiceField(required=False, choices=[("", "---"), *Petition.Evaluation.choices])
    decision = forms.ChoiceField(required=False, choices=[("", "---"), *Petition.Decision.choices])
    repeat_of = forms.CharField(required=False, max_length=20)
    type = forms.ChoiceField(required=False, choices=[("", "---"), *Petition.HandlingType.choices])
    requested_at = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])

    FIELDS_BY_ACTION = {
        "assign": ["department"],
        "reroute": ["department"],
        "redirect": ["route"],
        "decline": ["route"],
        "extend": ["days", "approver", "notified"],
        "reply": ["opinion", "text"],
        "evaluate": ["evaluation"],
        "decide_review": ["decision"],
        "decide_re_review": ["decision"],
        "link_repeat": ["repeat_of"],
        "request_review": ["requested_at"],
        "correct_type": ["type"],
    }

    def action_fields(self) -> dict[str, Any]:
        action = self.cleaned_data["action"]
        return {name: self.cleaned_data.get(name) for name in self.FIELDS_BY_ACTION.get(action, [])}


class RevealForm(forms.Form):
    # Blank or one character: the plain request. Too long: the length, which the field's error then
    # states (an officer who had said why at length was told to "say why").
    reason = forms.CharField(
        max_length=500,
        min_length=2,
        error_messages={
            "required": _("Say why you need to see this person's details."),
            "min_length": _("Say why you need to see this person's details."),
        },
    )
