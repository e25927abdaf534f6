"""Scoped reads of the grids app (STYLE.md "Access")."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from governance.access import get_visible_or_404
from governance.models import Department, Role, User
from grids.models import Incident, IncidentCategory, IncidentEvent, IncidentPhoto

ACTING_ROLES = {Role.GRID_WORKER, Role.HANDLER, Role.ADMIN}


def incident_list(user: User) -> QuerySet[Incident]:
    return Incident.objects.visible_to(user).with_relations()


def work_department(user: User) -> int | None:
    """The department whose work list is the user's: set when every handler membership of the user is
    a department's (a liaison of the police, of urban management...), None for centre handlers. Such a
    user's inbox and home start at the open items dispatched to that department, not at every item of
    the district (docs/incidents.md "Pages"); with several departments, the first by id."""
    if user.is_superuser:
        return None
    handler = [m for m in user.memberships_cached() if m.role == Role.HANDLER]
    if not handler or any(m.department_id is None for m in handler):
        return None
    return min(m.department_id for m in handler)


def incident_get_for_user(user: User, code: str, *, write: bool = False) -> Incident:
    """The incident ``code`` if the user may see it (404 otherwise, same message for missing);
    ``write=True`` also refuses read-only roles (analysts) with 403."""
    incident = get_visible_or_404(
        Incident.objects.visible_to(user)
        .with_relations()
        .prefetch_related(Prefetch("photos", queryset=IncidentPhoto.objects.order_by("uploaded_at", "id"))),
        code=code,
    )
    if write and not (user.is_superuser or user.has_role(*ACTING_ROLES)):
        raise PermissionDenied(_("Your role may only read incidents."))
    return incident


def incident_events(incident: Incident) -> QuerySet[IncidentEvent]:
    return incident.events.select_related("actor", "department").prefetch_related("photos")


def photo_get_for_user(user: User, photo_id: int) -> IncidentPhoto:
    return get_visible_or_404(
        IncidentPhoto.objects.filter(incident__in=Incident.objects.visible_to(user)), pk=photo_id
    )


def dispatch_departments(incident: Incident) -> QuerySet[Department]:
    """Active departments an incident may be dispatched to: those of its grid's ancestor areas."""
    codes = incident.grid.path.strip("/").split("/")
    return (
        Department.objects.filter(area__code__in=codes, is_active=True)
        .select_related("area")
        .order_by("-area__depth", "name")
    )


def active_categories() -> QuerySet[IncidentCategory]:
    return IncidentCategory.objects.filter(is_active=True).select_related("parent")
