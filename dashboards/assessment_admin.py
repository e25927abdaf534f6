"""Admin for setting up assessment schemes (items and the negative list). Scores, adjustments,
approvals and vetoes are not edited here: they go through the audited services (entry page), and runs
and results are read-only records."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext as _

from dashboards.assessment import check_items
from dashboards.assessment_models import AssessmentItem, AssessmentRun, AssessmentScheme, NegativeListEntry
from governance.admin import ReadOnlyAdmin, SuperusersOnly
from governance.text import join_sentences
from governance.workflow import ActionInvalid


class AssessmentItemInline(admin.TabularInline):
    model = AssessmentItem
    extra = 0
    fields = [
        "order",
        "name",
        "max_points",
        "method",
        "indicator",
        "target",
        "zero_at",
        "full_at",
        "deduction_cap",
        "bonus_cap",
    ]


class NegativeListEntryInline(admin.TabularInline):
    model = NegativeListEntry
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only the items of the scheme being edited (every scheme has its "安全感"; a new scheme
        # has none until its items are saved). NegativeListEntry.clean() refuses the others.
        if db_field.name == "item":
            scheme_id = (request.resolver_match.kwargs or {}).get("object_id", "")
            kwargs["queryset"] = AssessmentItem.objects.filter(
                scheme_id=int(scheme_id) if str(scheme_id).isdecimal() else None
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(AssessmentScheme)
class AssessmentSchemeAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = ["year", "name", "area", "level", "excellent_share_cap", "published_run"]
    list_filter = ["year", "level"]
    search_fields = ["name", "area__code", "area__name"]
    autocomplete_fields = ["area"]  # by code or name, as a membership's (governance.admin)
    readonly_fields = ["published_run"]
    inlines = [AssessmentItemInline, NegativeListEntryInline]
    # published_run may be empty, so Django's own select_related for the list leaves it out: one
    # query a row without this.
    list_select_related = ["area", "published_run"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Items may be set up over several saves, so a scheme computing would refuse is kept; but
        # the save said only "added successfully", and the scheme then went unscored each night
        # with a warning in the log alone. Computing's own words say what is missing.
        try:
            check_items(form.instance, list(form.instance.items.all()))
        except ActionInvalid as err:
            self.message_user(
                request,
                join_sentences([err.message, _("The scheme is not scored until this is put right.")]),
                messages.WARNING,
            )


@admin.register(AssessmentRun)
class AssessmentRunAdmin(SuperusersOnly, ReadOnlyAdmin):
    list_display = ["scheme", "computed_at", "trigger", "published_at", "published_by"]
    list_select_related = ["scheme", "published_by"]
