from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.admin import LabelledListEditable, SuperusersOnly, TimelineInline
from grids.models import Incident, IncidentCategory, IncidentEvent, IncidentPhoto


@admin.register(IncidentCategory)
class IncidentCategoryAdmin(LabelledListEditable, admin.ModelAdmin):
    list_display = [
        "name", "name_en", "code", "parent", "default_level", "is_dispute", "accept_hours", "dispatch_hours",
        "handle_hours", "verify_hours", "is_active",
    ]  # fmt: skip
    list_filter = ["default_level", "is_dispute", "is_active"]
    list_editable = ["accept_hours", "dispatch_hours", "handle_hours", "verify_hours", "is_active"]
    search_fields = ["name", "name_en", "code"]


class EventInline(TimelineInline):
    model = IncidentEvent
    readonly_fields = [
        "at",
        "actor",
        "action_shown",
        "status_column",
        "note",
        "department",
        "level",
        "on_time",
    ]
    fields = readonly_fields


@admin.register(Incident)
class IncidentAdmin(SuperusersOnly, admin.ModelAdmin):
    """Read-only: incidents move only through their workflow (pages and API), never by editing."""

    list_display = ["code", "category", "grid", "status", "level", "due_at", "reported_at"]
    list_filter = ["status", "level", "kind", "category"]
    # By number only, as cases and petitions: a description may carry a resident's phone or ID
    # number (typed in for the call back), and searching it found every incident naming that
    # person, with no reveal logged. The list filters and date links find the rest.
    search_fields = ["code"]
    search_help_text = _("Search by incident number.")
    list_select_related = ["category", "grid"]
    date_hierarchy = "reported_at"
    inlines = [EventInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # An incident's history is its timeline; deleting one would also change past months'
        # statistics behind the nightly rollup's back (it learns of changes from the events).
        return False


@admin.register(IncidentPhoto)
class IncidentPhotoAdmin(SuperusersOnly, admin.ModelAdmin):
    """Read and deleted only: photos come only through the incident's steps (grids.services), which
    clean them (grids.photos: content checked, EXIF and its GPS position dropped) and record their
    type and size. Added here, a file skipped the cleaning and its type and size were typed in."""

    # The copies' sizes from their own columns: no query and no file read per row.
    list_display = [
        "id", "incident", "stage", "content_type", "size", "thumbnail_dimensions", "display_dimensions", "uploaded_at",
    ]  # fmt: skip
    raw_id_fields = ["incident", "event"]
    # The file is linked through the scoped view: Django's own link went to MEDIA_URL, never served (404).
    fields = [
        "incident", "event", "stage", "photo", "content_type", "width", "height", "size", "thumbnail_preview",
        "thumbnail_details", "display_preview", "display_details", "uploaded_by", "uploaded_at",
    ]  # fmt: skip
    readonly_fields = [
        "photo",
        "thumbnail_preview",
        "thumbnail_details",
        "display_preview",
        "display_details",
    ]

    @admin.display(description=_("file"))
    def photo(self, obj: IncidentPhoto) -> str:
        return format_html('<a href="{}">{}</a>', reverse("grids-photo", args=[obj.pk]), obj.file.name)

    @admin.display(description=_("thumbnail"))
    def thumbnail_dimensions(self, obj: IncidentPhoto) -> str:
        return _dimensions(obj, "thumbnail")

    @admin.display(description=_("display copy"))
    def display_dimensions(self, obj: IncidentPhoto) -> str:
        return _dimensions(obj, "display")

    @admin.display(description=_("thumbnail"))
    def thumbnail_preview(self, obj: IncidentPhoto) -> str:
        return _preview(obj, "thumbnail", "grids-photo-thumbnail", gettext("thumbnail"))

    @admin.display(description=_("display copy"))
    def display_preview(self, obj: IncidentPhoto) -> str:
        # What a tap on a thumbnail opens (up to 640 px a side); admin.css fits it to a phone's width.
        return _preview(obj, "display", "grids-photo-display", gettext("display copy"))

    @admin.display(description=_("thumbnail file"))
    def thumbnail_details(self, obj: IncidentPhoto) -> str:
        return _details(obj, "thumbnail")

    @admin.display(description=_("display copy file"))
    def display_details(self, obj: IncidentPhoto) -> str:
        return _details(obj, "display")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


# A photo's copies ("thumbnail", "display"), each a file and its width and height columns.
def _dimensions(obj: IncidentPhoto, copy: str) -> str:
    if not getattr(obj, copy):
        return "–"
    return f"{getattr(obj, f'{copy}_width')} × {getattr(obj, f'{copy}_height')}"


def _preview(obj: IncidentPhoto, copy: str, url_name: str, alt: str) -> str:
    # Through the scoped view, as the pages show it (files are never public under MEDIA_URL);
    # at its stored size, so the form keeps its place while it loads.
    if not getattr(obj, copy):
        return gettext("none yet (grids_photo_thumbnails makes it)")
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="{}">',
        reverse(url_name, args=[obj.pk]),
        getattr(obj, f"{copy}_width"),
        getattr(obj, f"{copy}_height"),
        alt,
    )


def _details(obj: IncidentPhoto, copy: str) -> str:
    file = getattr(obj, copy)
    if not file:
        return "–"
    try:
        size = file.size  # one file's stat, on this page only (the list reads columns)
    except FileNotFoundError:
        return gettext("%(name)s: its file is missing (the photo is shown instead)") % {"name": file.name}
    return gettext("%(name)s: %(width)d × %(height)d px, %(size)d bytes") % {
        "name": file.name,
        "width": getattr(obj, f"{copy}_width"),
        "height": getattr(obj, f"{copy}_height"),
        "size": size,
    }
