"""The mediation side of ``manage.py import_users``: a mediator's row may name the organisation they
join. governance imports no other app, so the command loads this module by name (as ``seed_demo``
loads each app's demo); each function is one query whatever the number of rows."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from governance.models import Area
from mediation.models import MediationOrganisation, OrganisationMember


def organisations(keys: set[str]) -> list[MediationOrganisation]:
    """The organisations named by these ids or names (a name may be several areas')."""
    ids = [int(k) for k in keys if k.isascii() and k.isdigit()]
    return list(MediationOrganisation.objects.filter(Q(name__in=keys) | Q(pk__in=ids)).select_related("area"))


def organisation_refused(organisation: MediationOrganisation, area: Area) -> str | None:
    """Why a mediator holding the role at ``area`` may not join ``organisation``: its cases must be in
    the mediator's scope (the area's subtree), and a closed one takes no members."""
    if not organisation.is_active:
        return _("%(organisation)s is closed.") % {"organisation": organisation.name}
    if not organisation.area.path.startswith(area.path):
        return _("%(organisation)s serves %(area)s, outside the area of this role.") % {
            "organisation": organisation.name,
            "area": organisation.area.name,
        }
    return None


def members(user_ids: set[int]) -> set[tuple[int, int]]:
    """(user id, organisation id) of these users' organisation memberships."""
    return set(
        OrganisationMember.objects.filter(user_id__in=user_ids).values_list("user_id", "organisation_id")
    )


def members_add(pairs: list[tuple[int, int]]) -> int:
    OrganisationMember.objects.bulk_create(
        [OrganisationMember(user_id=u, organisation_id=o) for u, o in pairs], batch_size=2000
    )
    return len(pairs)
