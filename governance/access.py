"""The access policy, in one place (DESIGN.md section 4, STYLE.md "Access").

* A user's *scope* is the union of the subtrees of the areas of their memberships.
* Every list starts from ``Model.objects.visible_to(user)``; a model names the path to its area in
  ``SCOPE_AREA_FIELD`` ("" for Area itself, "grid" for an incident, ...).
* Every object taken from a URL comes through ``get_visible_or_404``: missing and out of scope give the
  same 404, so nobody learns that a record exists outside their area.
* ``can_act(user, roles, area)``: may the user perform an action reserved to ``roles`` on something in
  ``area``? A read-only role attempting a write gets 403 (raised by the caller as PermissionDenied).

Apps with narrower rules (a mediator sees their organisation's cases, an officer the petitions routed
to them) build on ``scope_q`` in their own ``visible_to`` and document why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import BooleanField, Expression, Q, Subquery
from django.http import Http404
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from governance.models import Area, User


# What a missing record and one outside the user's area both answer (pages and API alike), so that
# neither tells the other apart.
NOT_FOUND = gettext_lazy("No such record, or it is outside your area.")


def _path_lookup(field: str) -> str:
    return f"{field}__path__startswith" if field else "path__startswith"


def scope_paths(user: Any, roles: Iterable[str] | None = None) -> list[str]:
    """Paths of the roots of the user's scope (optionally only memberships with ``roles``)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    wanted = set(roles) if roles is not None else None
    paths = sorted({m.area.path for m in user.memberships_cached() if wanted is None or m.role in wanted})
    # Drop paths already covered by a shorter one: fewer OR branches in every scoped query.
    roots: list[str] = []
    for path in paths:
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return roots


def scope_q(user: Any, field: str, roles: Iterable[str] | None = None) -> Q | None:
    """A Q object restricting ``field`` (a path to an Area, "" for Area) to the user's scope.

    Returns None for "everything" (superusers) and an always-false Q for "nothing"."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return None
    roots = scope_paths(user, roles)
    if not roots:
        return Q(pk__in=[])
    q = Q()
    for root in roots:
        q |= Q(**{_path_lookup(field): root})
    return q


class InIds(Expression):
    """``column`` in the ids of ``subquery`` (areas: ``InAreaIds``; any table: the items a
    department supports, ``Incident.involving_q``, OR-ed with its lead foreign key). On PostgreSQL
    written as ``column = ANY(ARRAY(subquery))``: the ids are collected first and the column's index is
    probed with them, so the condition joins a BitmapOr with other indexed ones; ``IN (subquery)``
    or a join to the areas would be a filter on a scan of the whole table (docs/benchmarks.md,
    "Petition registry's scope"). Elsewhere (SQLite) the plain ``IN``."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, subquery: models.QuerySet) -> None:
        super().__init__()
        self.column = models.F(column)
        self.subquery = Subquery(subquery)

    def get_source_expressions(self) -> list:
        return [self.column, self.subquery]

    def set_source_expressions(self, exprs: list) -> None:
        self.column, self.subquery = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple]:
        column, column_params = compiler.compile(self.column)
        subquery, subquery_params = compiler.compile(self.subquery)  # "(SELECT ...)"
        template = "%s = ANY(ARRAY%s)" if connection.vendor == "postgresql" else "%s IN %s"
        return template % (column, subquery), (*column_params, *subquery_params)


InAreaIds = InIds  # the scope's area ids (scope_area_ids_q); the same expression


def scope_area_ids_q(user: Any, field: str, roles: Iterable[str] | None = None) -> Q | None:
    """``scope_q`` for a model whose ``field`` is a foreign key to Area, as a condition on the key
    (``InAreaIds``) rather than a join to the areas: what a list that ORs its scope with other
    indexed columns needs (the petition registry). Same None and nothing as ``scope_q``."""
    from governance.models import Area

    q = scope_q(user, "", roles)
    if q is None or not scope_paths(user, roles):
        return q
    return Q(InAreaIds(f"{field}_id", Area.objects.filter(q).order_by().values("id")))


def ancestor_paths(roots: Iterable[str]) -> set[str]:
    """The paths of the areas strictly above each of ``roots`` (a community's street, district, city)."""
    out: set[str] = set()
    for root in roots:
        codes = root.strip("/").split("/")
        out |= {"/".join(codes[: i + 1]) + "/" for i in range(len(codes) - 1)}
    return out


def scope_or_above_q(user: Any, field: str, roles: Iterable[str] | None = None) -> Q | None:
    """``scope_q`` widened to the areas above the scope's roots: where a user's items are dispatched,
    referred or routed (a community's street and district centres), which their pages already name
    to them. Records attached there (departments, mediation organisations) are no secret to them."""
    q = scope_q(user, field, roles)
    if q is None:
        return None
    above = ancestor_paths(scope_paths(user, roles))
    return q | Q(**{f"{field}__path__in" if field else "path__in": above}) if above else q


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ScopedQuerySet:
        q = scope_q(user, self.model.SCOPE_AREA_FIELD)
        return self if q is None else self.filter(q)


def get_visible_or_404(queryset: models.QuerySet, **lookup: Any) -> Any:
    """The one way views fetch an object by key: missing and out of scope look the same."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(str(NOT_FOUND)) from None


def area_in_scope(user: Any, area: Area, roles: Iterable[str] | None = None) -> bool:
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return any(area.path.startswith(root) for root in scope_paths(user, roles))


def can_act(user: User, roles: Iterable[str], area: Area) -> bool:
    """Does the user hold one of ``roles`` at ``area`` or above it? Admins may do everything in scope."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return area_in_scope(user, area, set(roles) | {"admin"})
