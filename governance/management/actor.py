"""Who a command's writes are recorded in the name of (``--actor USERNAME``)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from governance.backends import account_for
from governance.models import Role, User


def command_actor(username: str | None, missing: str) -> User:
    """The active superuser or administrator named by ``--actor``: an audit entry names who answers
    for what a command wrote. ``missing`` is the error when no username was given."""
    if not username:
        raise CommandError(missing)
    # Regardless of case, as the rows' usernames of import_users and the login take it.
    found = account_for(username)
    if found is not None and not (
        found.is_active and (found.is_superuser or found.memberships.filter(role=Role.ADMIN).exists())
    ):
        found = None
    if found is None:
        raise CommandError(
            _("--actor %(username)s: no active superuser or administrator has that username.")
            % {"username": username}
        )
    return found
