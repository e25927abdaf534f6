"""Who a command's writes are recorded in the name of (``--actor USERNAME``)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.models import Q
from django.utils.translation import gettext as _

from governance.models import Role, User


def command_actor(username: str | None, missing: str) -> User:
    """The active superuser or administrator named by ``--actor``: an audit entry names who answers
    for what a command wrote. ``missing`` is the error when no username was given."""
    if not username:
        raise CommandError(missing)
    found = (
        User.objects.filter(username=username, is_active=True)
        .filter(Q(is_superuser=True) | Q(memberships__role=Role.ADMIN))
        .first()
    )
    if found is None:
        raise CommandError(
            _("--actor %(username)s: no active superuser or administrator has that username.")
            % {"username": username}
        )
    return found
