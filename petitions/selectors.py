"""Scoped reads of the petitions app (STYLE.md "Access")."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from governance.access import get_visible_or_404
from governance.models import Department, User
from petitions.models import (
    Petition,
    Petitioner,
    PetitionEvent,
    extension_approver_q,
    is_officer_for,
    route_targets,
    user_department_ids,
)


def petition_list(user: User) -> QuerySet[Petition]:
    """Petitions visible to ``user`` with what list rows show, in a constant number of queries."""
    return (
        Petition.objects.visible_to(user)
        .with_relations()
        .prefetch_related(Prefetch("petitioners", queryset=Petitioner.objects.order_by("position", "id")))
    )


def registered_out_of_reach(user: User, petition: Petition) -> str | None:
    """For a registration sent again with its key: ``None`` while the petition it saved is in the
    registrar's area; once it is not, what to tell them instead of a 404 as if nothing had been
    saved: its number only."""
    if Petition.objects.visible_to(user).filter(pk=petition.pk).exists():
        return None
    return _(
        "This registration was saved already, as petition %(code)s, which is no longer in your area."
    ) % {"code": petition.code}


def petition_get_for_user(user: User, code: str, *, write: bool = False) -> Petition:
    """The petition ``code`` if the user may see it; 404 with the same message when missing.
    ``write=True`` also refuses, with 403 and before any input is read, a reader who has no side
    on it: the unit complained about, which reads the content only."""
    petition = get_visible_or_404(petition_list(user), code=code)
    if write and not (
        user.is_superuser
        or is_officer_for(user, petition.area)
        or (petition.department_id and petition.department_id in user_department_ids(user))
    ):
        raise PermissionDenied(_("You may take no step on this petition."))
    return petition


def petition_events(petition: Petition) -> QuerySet[PetitionEvent]:
    return petition.events.select_related("actor", "department")


def department_inbox(user: User) -> QuerySet[Petition]:
    """Items routed to the user's departments that still wait for them (acceptance or reply)."""
    return (
        petition_list(user)
        .filter(department_id__in=user_department_ids(user), status__in=["routed", "accepted"])
        .order_by("due_at")
    )


def extension_approvers(petition: Petition, actor: User) -> QuerySet[User]:
    """Who may approve extending the reply limit, for the page's suggestions: the heads of the
    department handling the petition other than the actor (the check ``Petition._do_extend`` makes).
    One query."""
    return (
        User.objects.filter(extension_approver_q(petition))
        .exclude(pk=actor.pk)
        .distinct()
        .order_by("username")
    )


def routing_departments(user: User, petition: Petition | None = None) -> QuerySet[Department]:
    """Departments an officer may route to: active ones in the officer's scope (any level) with
    someone to accept (``route_targets``), the same list ``Petition._do_assign`` holds a route to."""
    return route_targets(user)
