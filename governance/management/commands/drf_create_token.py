"""``manage.py drf_create_token <username>``: DRF's command, for tokens stored as digests.

DRF's own command would store the key it prints, which the API (``governance.rest.
HashedTokenAuthentication``) no longer accepts. This one issues a token as the token endpoint does
(``governance.services.user_token_issue``: a new key, shown once, the user's previous token revoked)
and prints it in DRF's words, so scripts reading the third word keep working. ``-r`` is accepted
for compatibility: every token issued replaces the previous one."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from governance.services import user_token_issue


class Command(BaseCommand):
    help = "Issue a new API token for a user (the previous one stops working); the key is shown once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "-r", "--reset", action="store_true", help="Accepted; a new token always replaces the old."
        )

    def handle(self, *args, username: str, **options):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"Cannot create the Token: user {username} does not exist") from None
        self.stdout.write(f"Generated token {user_token_issue(user=user, via='command')} for user {username}")
