from django.contrib import admin

from mediation.models import (
    DisputeCase,
    DisputeCategory,
    DisputeEvent,
    DisputeSession,
    MediationOrganisation,
    OrganisationMember,
)


@admin.register(DisputeCategory)
class DisputeCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "code"]


class MemberInline(admin.TabularInline):
    model = OrganisationMember
    extra = 1
    raw_id_fields = ["user"]


@admin.register(MediationOrganisation)
class MediationOrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "area", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "area__code", "area__name"]
    raw_id_fields = ["area"]
    inlines = [MemberInline]


class EventInline(admin.TabularInline):
    model = DisputeEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_status", "to_status", "note", "organisation"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class SessionInline(admin.TabularInline):
    model = DisputeSession
    extra = 0
    can_delete = False
    readonly_fields = ["held_at", "place", "attendees", "summary", "next_step", "recorded_by"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DisputeCase)
class DisputeCaseAdmin(admin.ModelAdmin):
    """Read-only in the admin: cases change through the workflow only, and parties' personal data is
    not shown here at all (reveals go through the logged case page)."""

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
    exclude = ["incident"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields if f.name != "incident"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
