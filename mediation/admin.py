from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.admin import LabelledListEditable, SuperusersOnly, TimelineInline, masked_texts
from mediation.api import DisputeDetailSerializer, EventSerializer, SessionSerializer
from mediation.models import (
    DisputeCase,
    DisputeCategory,
    DisputeEvent,
    DisputeSession,
    MediationOrganisation,
    OrganisationMember,
)


@admin.register(DisputeCategory)
class DisputeCategoryAdmin(LabelledListEditable, admin.ModelAdmin):
    list_display = ["name", "name_en", "code", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "name_en", "code"]


class MemberInline(admin.TabularInline):
    model = OrganisationMember
    extra = 1
    raw_id_fields = ["user"]


@admin.register(MediationOrganisation)
class MediationOrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "area", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "area__code", "area__name"]
    autocomplete_fields = ["area"]  # by code or name, as a membership's (governance.admin)
    inlines = [MemberInline]


class EventInline(TimelineInline):
    model = DisputeEvent
    readonly_fields = masked_texts(
        DisputeEvent,
        ["at", "actor", "action_shown", "status_column", "note", "organisation"],
        EventSerializer.text_fields,
    )
    fields = readonly_fields


class SessionInline(admin.TabularInline):
    model = DisputeSession
    extra = 0
    can_delete = False
    readonly_fields = masked_texts(
        DisputeSession,
        ["held_at", "place", "attendees", "summary", "next_step", "recorded_by"],
        SessionSerializer.text_fields,
    )
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


PREVENTION_FIELDS = ["escalation_prevented", "escalation_persons", "group_defused", "group_persons"]


class PreventionCorrectionForm(forms.ModelForm):
    """Corrects a mistaken escalation-prevention record (docs/mediation.md): the flags and persons
    only, with a reason that goes into the case's timeline."""

    correction_reason = forms.CharField(
        label=_("Reason for the correction"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the prevention record changes; it is kept in the case's timeline."),
    )

    def clean(self):
        data = super().clean()
        for flag, persons in (
            ("escalation_prevented", "escalation_persons"),
            ("group_defused", "group_persons"),
        ):
            if flag not in data or persons not in data:
                continue
            if data[flag] and data[persons] < 1:
                self.add_error(persons, gettext("Give the number of persons (at least 1)."))
            elif not data[flag]:
                # Persons without the fact are counted nowhere; keep the row consistent.
                data[persons] = 0
        if set(self.changed_data) & set(PREVENTION_FIELDS) and not data.get("correction_reason", "").strip():
            self.add_error("correction_reason", gettext("Say why the prevention record is corrected."))
        return data


@admin.register(DisputeCase)
class DisputeCaseAdmin(SuperusersOnly, admin.ModelAdmin):
    """Read-only in the admin: cases change through the workflow only, and parties' personal data is
    not shown here at all (reveals go through the logged case page): the free texts, the sessions'
    and the timeline's show the identity and phone numbers in them masked, as the case page does to
    whoever may not reveal. The one exception is a mistaken escalation-prevention record, which the
    workflow only adds to: once a case has one, its flags and persons can be corrected here, with a
    reason, and the correction is an event in the timeline."""

    list_display = [
        "code",
        "category",
        "origin",
        "area",
        "organisation",
        "mediator",
        "status",
        "outcome",
        "due_at",
    ]
    list_filter = ["status", "outcome", "origin", "category"]
    search_fields = ["code"]
    list_select_related = ["category", "area", "organisation", "mediator"]
    inlines = [SessionInline, EventInline]
    # The texts are shown masked (get_readonly_fields), and in no form field, which shows them whole.
    exclude = ["incident", *DisputeDetailSerializer.text_fields]

    @staticmethod
    def _correctable(obj) -> bool:
        return obj is not None and obj.prevention_recorded_at is not None

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._correctable(obj):
            kwargs["form"] = PreventionCorrectionForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        editable = {"incident", *(PREVENTION_FIELDS if self._correctable(obj) else [])}
        fields = [f.name for f in self.model._meta.concrete_fields if f.name not in editable]
        return masked_texts(self.model, fields, DisputeDetailSerializer.text_fields)

    def save_model(self, request, obj, form, change):
        changed = [name for name in PREVENTION_FIELDS if name in form.changed_data]
        if not changed:
            return
        # The event is what makes the nightly rollup recompute the months the facts count in
        # (mediation.indicators.case_changes). A fact's date is kept when it is cleared, so its month
        # is found and its counts drop; a fact set by the correction was there at the first record
        # and counts in that month.
        dates = {"escalation_prevented": "escalation_recorded_at", "group_defused": "group_recorded_at"}
        for flag, recorded_at in dates.items():
            if getattr(obj, flag) and getattr(obj, recorded_at) is None:
                setattr(obj, recorded_at, obj.prevention_recorded_at)
        # The persons of a record are people the dispute involves, corrected or not: the number
        # grows to the largest, never shrinks, as the workflow's record does (_do_record_prevention).
        involved_before = obj.persons_involved
        obj.persons_involved = max(
            involved_before,
            obj.escalation_persons if obj.escalation_prevented else 0,
            obj.group_persons if obj.group_defused else 0,
        )
        with transaction.atomic():
            obj.save(update_fields=[*PREVENTION_FIELDS, *dates.values(), "persons_involved"])
            DisputeEvent.objects.create(
                case=obj,
                actor=request.user,
                at=timezone.now(),
                action="correct_prevention",
                from_status=obj.status,
                to_status=obj.status,
                note=form.cleaned_data["correction_reason"].strip(),
                organisation_id=obj.organisation_id,
                data={
                    "before": {
                        **{name: form.initial[name] for name in PREVENTION_FIELDS},
                        "persons_involved": involved_before,
                    },
                    "after": {name: getattr(obj, name) for name in [*PREVENTION_FIELDS, "persons_involved"]},
                },
            )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
