"""Objects the admin names by a label in the reader's language where their model's ``str()`` is not
ours to change: django-celery-beat's scheduled jobs (their English keys) and django-axes' sign-in
records ("Attempted Access: 2026-12-06 18:52:09.249685+00:00", English and at UTC)."""

from __future__ import annotations

from typing import Any, NamedTuple

from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _


class Labelled(NamedTuple):
    pk: Any
    label: str

    def __str__(self) -> str:
        return self.label


class LabelledObjects:
    """A ModelAdmin mixin: ``object_label(obj)`` names each object where the admin used ``str()``: the
    row's checkbox (read out by a screen reader), the object's page (its title, its heading and its
    breadcrumb: templates/admin/change_form.html), its history, the confirmation of its deletion (one
    or a selection) and the admin log of its deletion."""

    def object_label(self, obj) -> str:
        return str(obj)

    def action_checkbox(self, obj):
        return super().action_checkbox(Labelled(obj.pk, self.object_label(obj)))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if obj is not None:
            label = self.object_label(obj)
            extra_context = {**(extra_context or {}), "subtitle": label, "object_label": label}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _labelled(self, request, object_id) -> Labelled | None:
        obj = self.get_object(request, unquote(object_id))
        return None if obj is None else Labelled(obj.pk, self.object_label(obj))

    def history_view(self, request, object_id, extra_context=None):
        labelled = self._labelled(request, object_id)
        if labelled is not None:
            extra_context = {
                **(extra_context or {}),
                "title": _("Change history: %s") % labelled.label,
                "object": labelled,
            }
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        labelled = self._labelled(request, object_id)
        if labelled is not None:
            extra_context = {**(extra_context or {}), "object": labelled}
        return super().delete_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request):
        # The list of what a deletion removes names each object as Django's link to it, by str():
        # the same link, by the label.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        names = {str(obj): self.object_label(obj) for obj in objs}
        return relabelled(deleted, names), counts, perms_needed, protected

    def log_deletions(self, request, queryset):
        content_type = ContentType.objects.get_for_model(self.model, for_concrete_model=False)
        return LogEntry.objects.bulk_create(
            LogEntry(
                user_id=request.user.pk,
                content_type=content_type,
                object_id=str(obj.pk),
                object_repr=self.object_label(obj)[:200],
                action_flag=DELETION,
                change_message="",
            )
            for obj in queryset
        )


def relabelled(deleted: list, names: dict[str, str]) -> list:
    """Django's list of what a deletion removes (links to the objects, named by str(), in nested
    lists) with each object named in ``names`` (its str() to its label) by its label."""
    escaped = {escape(name): escape(label) for name, label in names.items()}

    def each(item):
        if isinstance(item, list):
            return [each(sub) for sub in item]
        for name, label in escaped.items():
            item = item.replace(f">{name}</a>", f">{label}</a>")
        return mark_safe(item)  # noqa: S308  (Django's own escaped link, a label escaped above)

    return each(deleted)


def sign_in_label(record) -> str:
    """A django-axes record by its username, address and local time (张三 · 10.0.0.1 · 2026-12-07
    02:52:09; "–" for an empty one), "locked out" added to a failure that locked the account."""
    when = timezone.localtime(record.attempt_time).strftime("%Y-%m-%d %H:%M:%S")
    # axes keeps an address it could not read, and a failure without a username, empty.
    label = " · ".join([record.username or "–", record.ip_address or "–", when])
    if getattr(record, "locked_out", False):
        return " · ".join([label, _("locked out")])
    return label
