"""Forms of the assessment entry page (validation only; the services in dashboards/assessment.py write)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from dashboards.assessment import MAX_OCCURRENCES, MAX_POINTS, assessed_areas, at_most_points, points_text
from dashboards.assessment_models import (
    EVIDENCE_TYPES,
    PDF_HEADER_WITHIN,
    Adjustment,
    AssessmentItem,
    AssessmentScheme,
    NegativeListEntry,
    evidence_content_matches,
    evidence_extension,
)
from governance.models import MAX_ID, Area
from governance.pictures import EXTENSIONS, clean_picture

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


# Each label has its own sentence for exactly 1 point ("at most 1 points" read wrong); see
# at_most_points for why not ngettext.
def _item_with_maximum(item: AssessmentItem) -> str:
    if item.max_points == 1:
        return _("%(name)s (at most 1 point)") % {"name": item.name}
    return _("%(name)s (at most %(max)s points)") % {"name": item.name, "max": points_text(item.max_points)}


def _item_with_bonus_cap(item: AssessmentItem) -> str:
    if item.bonus_cap == 1:
        return _("%(name)s (bonus at most 1 point)") % {"name": item.name}
    return _("%(name)s (bonus at most %(max)s points)") % {
        "name": item.name,
        "max": points_text(item.bonus_cap),
    }


def _entry_with_points(entry: NegativeListEntry) -> str:
    if entry.points == 1:
        return _("%(name)s (1 point per occurrence)") % {"name": entry.name}
    return _("%(name)s (%(points)s points per occurrence)") % {
        "name": entry.name,
        "points": points_text(entry.points),
    }


class _FieldsInError:
    def fields_in_error(self) -> list[forms.BoundField]:
        """The fields the page's summary names, in the order of the form (_entry_form.html)."""
        return [field for field in self if field.errors]


class _SchemeForm(_FieldsInError, forms.Form):
    def __init__(self, *args, scheme: AssessmentScheme, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scheme = scheme
        if "area" in self.fields:
            self.fields["area"].queryset = assessed_areas(scheme)


def area_choice() -> forms.ModelChoiceField:
    """An assessed area to choose (the queryset is the scheme's, set by _SchemeForm): the select
    starts on "Choose an area", not on Django's dashes, and says so when none is chosen."""
    return forms.ModelChoiceField(
        queryset=Area.objects.none(),
        label=_("Area"),
        to_field_name="code",
        empty_label=_("Choose an area"),
        error_messages={"required": _("Choose an area.")},
    )


class ManualScoreForm(_SchemeForm):
    item = forms.ModelChoiceField(
        queryset=AssessmentItem.objects.none(),
        label=_("Item"),
        empty_label=_("Choose an item"),
        error_messages={"required": _("Choose an item.")},
    )
    area = area_choice()
    points = forms.DecimalField(
        label=_("Points"),
        min_value=Decimal("0"),
        max_digits=7,
        decimal_places=2,
        help_text=_("At most the item's maximum, named with each item."),
    )
    evidence = forms.FileField(label=_("Evidence"))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = self.scheme.items.filter(method=AssessmentItem.Method.MANUAL)
        # The choice names each item's maximum, so the limit is known before the score is typed.
        self.fields["item"].label_from_instance = _item_with_maximum

    def clean(self):
        # Checked with the other fields, so that a score above the maximum is reported together with
        # a missing file rather than after it (the service checks it again).
        data = super().clean()
        item, points = data.get("item"), data.get("points")
        if item is not None and points is not None and points > item.max_points:
            self.add_error("points", at_most_points(item.max_points))
        return data

    def clean_evidence(self):
        evidence = self.cleaned_data["evidence"]
        if evidence.size > MAX_EVIDENCE_BYTES:
            raise forms.ValidationError(_("The evidence file is larger than 20 MB."))
        extension = evidence_extension(evidence.name)
        if not extension:
            # Served back to the managers: an SVG or HTML file would be a page of its own.
            raise forms.ValidationError(
                _("Attach a PDF, OFD, JPEG, PNG, WebP, Word or Excel file as the evidence.")
            )
        if EVIDENCE_TYPES[extension].startswith("image/"):
            # A picture is cleaned as an incident photo is: a phone photo of a ledger page carried the
            # GPS position where it was taken and the camera's serial number to everyone who opened it.
            # Stored under the extension of what it is, not of the name it came with.
            evidence.seek(0)
            try:
                picture = clean_picture(evidence.read(), evidence.name, "evidence")
            except ValidationError as exc:
                raise forms.ValidationError(exc.message_dict["evidence"]) from None
            return ContentFile(picture.content, name=f"evidence{EXTENSIONS[picture.content_type]}")
        evidence.seek(0)
        head = evidence.read(PDF_HEADER_WITHIN)
        evidence.seek(0)
        if not evidence_content_matches(extension, head):
            raise forms.ValidationError(
                _("This file is not the %(kind)s file its name says: attach the document as it was saved.")
                % {"kind": extension[1:].upper()}
            )
        return evidence


class AdjustmentForm(_SchemeForm):
    kind = forms.ChoiceField(choices=Adjustment.Kind.choices, label=_("Kind"))
    area = area_choice()
    negative_entry = forms.ModelChoiceField(
        queryset=NegativeListEntry.objects.none(),
        required=False,
        label=_("Negative-list entry"),
        empty_label=_("Choose the entry (deduction)"),
    )
    occurrences = forms.IntegerField(
        min_value=1,
        max_value=MAX_OCCURRENCES,
        initial=1,
        required=False,
        label=_("Occurrences"),
        widget=forms.NumberInput(attrs={"max": MAX_OCCURRENCES}),
    )
    item = forms.ModelChoiceField(
        queryset=AssessmentItem.objects.none(),
        required=False,
        label=_("Item (bonus)"),
        empty_label=_("Choose the item (bonus)"),
    )
    points = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_digits=7,
        decimal_places=2,
        required=False,
        label=_("Points (bonus)"),
        help_text=_(
            "At most the item's bonus cap (named with each item), counting the area's bonuses already entered for it."
        ),
    )
    reason = forms.CharField(max_length=500, label=_("Reason"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["negative_entry"].queryset = self.scheme.negative_list.all()
        self.fields["item"].queryset = self.scheme.items.all()
        # Each choice names its limit, so the points are known before they are typed.
        self.fields["negative_entry"].label_from_instance = _entry_with_points
        self.fields["item"].label_from_instance = _item_with_bonus_cap
        self.fields["occurrences"].help_text = _("From 1 to %(max)d.") % {"max": MAX_OCCURRENCES}
        # The service's words (a deduction's count is checked there too), not Django's generic ones.
        self.fields["occurrences"].error_messages["max_value"] = _("At most %(max)d occurrences.") % {
            "max": MAX_OCCURRENCES
        }

    def clean(self):
        # What the kind asks for is checked here, with the other fields, so that every error shows at
        # once, limits included (the service checks it all again; what needs the scheme row locked,
        # an identical pending entry, is left to it).
        data = super().clean()
        kind = data.get("kind")
        if kind == Adjustment.Kind.DEDUCTION:
            entry, occurrences = data.get("negative_entry"), data.get("occurrences") or 1
            if entry is None and "negative_entry" not in self.errors:
                self.add_error(
                    "negative_entry", _("A deduction must name an entry of this scheme's negative list.")
                )
            if "occurrences" in self.errors:
                return data
            if occurrences > MAX_OCCURRENCES:
                self.add_error("occurrences", _("At most %(max)d occurrences.") % {"max": MAX_OCCURRENCES})
            elif entry is not None and entry.points * occurrences > MAX_POINTS:
                self.add_error(
                    "occurrences",
                    _("%(n)d occurrences come to %(points)s points, more than can be recorded.")
                    % {"n": occurrences, "points": entry.points * occurrences},
                )
        elif kind == Adjustment.Kind.BONUS:
            item, points = data.get("item"), data.get("points")
            if item is None and "item" not in self.errors:
                self.add_error("item", _("A bonus must name an item of this scheme."))
            if points is None and "points" not in self.errors:
                self.add_error("points", _("Bonus points must be more than zero."))
            elif item is not None and points is not None and points > item.bonus_cap:
                self.add_error("points", at_most_points(item.bonus_cap))
        return data


class DecideForm(forms.Form):
    adjustment = forms.IntegerField()
    approve = forms.TypedChoiceField(
        choices=[("1", _("approve")), ("0", _("reject"))], coerce=lambda v: v == "1"
    )


class WithdrawVetoForm(forms.Form):
    """The veto; its reason is checked by ``assessment.veto_withdraw``, after who may withdraw it."""

    veto = forms.IntegerField(min_value=1, max_value=MAX_ID)


class VetoForm(_SchemeForm):
    area = area_choice()
    event = forms.CharField(max_length=500, label=_("Event"))


class ImportForm(_FieldsInError, forms.Form):
    """The data import page: which import, the CSV file, and the command's --dry-run and --again."""

    kind = forms.ChoiceField(
        label=_("The file holds"),
        choices=[
            ("surveys", _("Survey answers")),
            ("case-counts", _("Police preventable-case counts")),
            ("populations", _("Area populations by year")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what the file holds.")},
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_('Saved from Excel as "CSV UTF-8" or "CSV (逗号分隔)"; the first line names the columns.'),
        error_messages={"required": _("Choose the CSV file to import.")},
    )
    dry_run = forms.BooleanField(label=_("Check only: write nothing"), required=False)
    again = forms.BooleanField(
        label=_("Survey answers imported before: count them again on purpose"), required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("again") and data.get("kind") not in (None, "surveys"):
            # As the API (?again= on the survey import only) and the command (--again): counts and
            # populations sent again replace the earlier ones anyway.
            self.add_error(
                "again",
                _("Only for survey answers: counts and populations sent again replace the earlier ones."),
            )
        return data
