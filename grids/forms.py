"""Forms of the grids pages: validation of input only; the services decide and write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.forms import SubmissionKeyForm
from governance.models import record_id
from governance.workflow import validate_form_state
from grids.models import Incident, IncidentCategory

# The longest description, note or resolution a page or the API takes (a phone's report is a few
# lines; a pasted document is a mistake).
TEXT_MAX = 4000
# Django's own message read "确保该变量包含不超过 4000 字符" ("this variable") to a grid worker.
TOO_LONG = {"max_length": _("At most %(limit_value)d characters; this has %(show_value)d.")}


class ReportForm(SubmissionKeyForm):
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=IncidentCategory.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("Choose a category"),
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": _("Unknown category; choose one from the list."),
        },
    )
    description = forms.CharField(
        label=_("What did you find?"),
        # Anyone who reads the incident reads this text as typed (analysts among them): the people
        # concerned are recorded, encrypted, only if it becomes a dispute case or a petition.
        help_text=_("The place and the problem. No residents' names, ID numbers or phone numbers."),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=TEXT_MAX,
        error_messages={"required": _("Describe what you found."), **TOO_LONG},
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Incident.Kind.choices, initial=Incident.Kind.PROMISED)
    resolution = forms.CharField(
        label=_("How you resolved it (resolved on the spot only)"),
        required=False,
        max_length=TEXT_MAX,
        error_messages=TOO_LONG,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    lat = forms.FloatField(
        label=_("Latitude"),
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    lng = forms.FloatField(
        label=_("Longitude"),
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    grid = forms.ChoiceField(
        label=_("Grid (if there is no location, or the pin is in no grid)"), required=False
    )
    # The incident's place, not the worker's: a phone offered its saved addresses (the worker's home).
    address = forms.CharField(
        label=_("Address or landmark"),
        required=False,
        max_length=200,
        error_messages=TOO_LONG,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    occurred_at = forms.DateTimeField(
        label=_("When did it happen?"),
        help_text=_("Leave it empty if it is happening now: the time of the report is used."),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )

    # The submission key (SubmissionKeyForm) is kept in the page's draft with what was typed: a report
    # sent again after the phone lost the answer is the same report.

    def __init__(self, *args, grids=(), on_the_spot: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not on_the_spot:
            # Not offered to whoever may not resolve an item on the spot (a centre's handler); one
            # posted anyway is refused by the service, naming ``kind`` (grids.services).
            self.fields["kind"].widget.choices = [
                c for c in Incident.Kind.choices if c[0] != Incident.Kind.ON_THE_SPOT
            ]
        self.fields["grid"].choices = [("", _("— found from the location —"))] + [
            (g.code, g.name) for g in grids
        ]

    def add_error(self, field, error) -> None:
        """Django marks a field in error aria-invalid, described by the list ``id_<field>_error``. A
        point outside every grid is an error of latitude and longitude alike, which the page lists once,
        under latitude (grids/report.html): the longitude is then described by that list as well."""
        super().add_error(field, error)
        lng = self.fields["lng"].widget.attrs
        lng.pop("aria-describedby", None)
        if "lat" in self._errors and "lng" in self._errors:
            lng["aria-describedby"] = f"{self['lat'].auto_id}_error {self['lng'].auto_id}_error"


class IdListField(forms.Field):
    """Several record ids from checkboxes of one name (``getlist``): whole numbers in range, in the
    order given; which ids are acceptable is the model's business."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value) -> list[int]:
        ids = [record_id(v) for v in (value or []) if v not in (None, "")]
        if None in ids:
            raise forms.ValidationError(_("Choose departments from the list."), code="invalid")
        return ids


class ActionForm(forms.Form):
    """The fields any workflow action may carry; which ones an action needs is the model's business."""

    action = forms.CharField(max_length=20)
    # The status and level of the item when the form was drawn (``Incident.step_state``): a form sent
    # twice is known by it.
    state = forms.CharField(required=False, max_length=60, validators=[validate_form_state])
    note = forms.CharField(required=False, max_length=TEXT_MAX, error_messages=TOO_LONG)
    department = forms.IntegerField(required=False)
    supporting_departments = IdListField(required=False)
    result = forms.ChoiceField(required=False, choices=[("", ""), ("pass", "pass"), ("fail", "fail")])
    kind = forms.ChoiceField(
        required=False,
        choices=[
            ("", ""),
            (Incident.Kind.PROMISED, Incident.Kind.PROMISED),
            (Incident.Kind.COORDINATION, Incident.Kind.COORDINATION),
        ],
    )
    resolution = forms.CharField(required=False, max_length=TEXT_MAX, error_messages=TOO_LONG)
    evaluation = forms.ChoiceField(required=False, choices=[("", ""), *Incident.Evaluation.choices])

    def action_fields(self) -> dict:
        """Only the fields that were given, so the model sees what the user actually sent."""
        data = self.cleaned_data
        return {
            k: data[k]
            for k in ("department", "supporting_departments", "result", "kind", "resolution", "evaluation")
            if data.get(k) not in (None, "", [])
        }


class MonthForm(forms.Form):
    """The month of the departments' record (page and API alike): YYYY-MM from 1900 to 2999, the
    current local month when absent or blank."""

    month = forms.RegexField(
        label=_("Month"),
        regex=r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$",
        required=False,
        error_messages={"invalid": _("Enter a month as YYYY-MM.")},
        widget=forms.TextInput(attrs={"type": "month", "pattern": "[0-9]{4}-[0-9]{2}"}),
    )

    def __init__(self, data: QueryDict | dict[str, str] | None = None, *args: Any, **kwargs: Any) -> None:
        # The current month is put in the data rather than only taken in clean_month: the page's
        # picker shows the bound data, and it stood empty above the current month's record.
        if data is not None and not data.get("month"):
            data = data.copy()
            data["month"] = timezone.localdate().strftime("%Y-%m")
        super().__init__(data, *args, **kwargs)

    def clean_month(self) -> dt.date:
        year, month = self.cleaned_data["month"].split("-")
        return dt.date(int(year), int(month), 1)
