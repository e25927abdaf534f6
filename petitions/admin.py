"""Admin for petitions: read-mostly. Petitioners' identity is never listed (masked only), the free
texts show the identity and phone numbers in them masked (as the petition page shows them to whoever
may not reveal), and the workflow fields are read-only: state changes go through the transition
method, not the admin."""

from django.contrib import admin

from governance.admin import SuperusersOnly, TimelineInline, masked_texts
from petitions.models import Petition, PetitionEvent

TEXTS = ["content", "reply_text", "extension_reason"]


class EventInline(TimelineInline):
    model = PetitionEvent
    fields = masked_texts(PetitionEvent, ["at", "actor", "action_shown", "status_column", "note"], ["note"])
    readonly_fields = fields


@admin.register(Petition)
class PetitionAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = [
        "code",
        "received_at",
        "channel",
        "category",
        "area",
        "status",
        "due_at",
        "is_repeat",
        "is_group",
    ]
    list_filter = ["status", "channel", "handling_type", "category", "is_repeat", "is_group"]
    search_fields = ["code"]
    list_select_related = ["area"]
    raw_id_fields = [
        "area",
        "department",
        "complained_unit",
        "repeat_of",
        "registered_by",
        "extension_approver",
    ]
    inlines = [EventInline]

    # The texts the petition page and API mask (petitions.api.PetitionSerializer) are shown masked
    # (get_readonly_fields), and in no form field, which would show them whole.
    exclude = TEXTS

    def get_readonly_fields(self, request, obj=None):
        return masked_texts(Petition, [f.name for f in Petition._meta.fields], TEXTS)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
