"""Sign-in by username regardless of case.

``import_users`` takes "Wang.Li" and "wang.li" for one account, and Django's admin refuses a second
account that differs from one only in case: the login does the same, so a user who types their name
as it was written on the sheet is let in. Accounts made before then may still differ only in case:
the exact spelling names its own; any other spelling could be either, and signs in neither.

The lockout (django-axes) counts failures by the username folded the same way
(``AXES_USERNAME_CALLABLE``): otherwise every spelling of a name had its own five guesses.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


def username_key(username: str | None) -> str | None:
    """A username as the lockout counts it: lower-cased."""
    return username.lower() if isinstance(username, str) else username


def axes_username(request, credentials: dict | None = None) -> str | None:
    """django-axes' AXES_USERNAME_CALLABLE: the username from the credentials or the posted form."""
    if credentials:
        return username_key(credentials.get("username"))
    data = getattr(request, "data", None) or request.POST
    return username_key(data.get("username"))


def account_for(username: str):
    """The account ``username`` names regardless of case, or None if none (or several, none spelled
    exactly so)."""
    model = get_user_model()
    found = list(model._default_manager.filter(username__iexact=username)[:10])
    exact = [u for u in found if u.username == username]
    if exact:
        return exact[0]
    return found[0] if len(found) == 1 else None


class CaseInsensitiveModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = account_for(username)
        if user is None:
            # As ModelBackend: the hasher runs anyway, so a missing account takes as long as a
            # wrong password.
            model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
