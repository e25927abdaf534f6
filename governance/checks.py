"""Deployment checks of the keys that protect personal data (``manage.py check --deploy``).

``FIELD_ENCRYPTION_KEY`` is turned into the Fernet key with one SHA-256 and no work factor
(``governance.pii._derive``), and the keyed hashes of ID numbers and phones take theirs the same way:
whoever holds a copy of the database can test a guessed key against one stored value in microseconds.
A short or well-known key ("k", the development key written in the settings) makes every name, ID
number, phone and address readable, and every hash reversible, from a dump. Like Django's own W009
for ``SECRET_KEY``, the check runs with ``--deploy``: the image build's ``collectstatic`` uses a
throw-away key and stores nothing."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

MIN_KEY_LENGTH = 32


def _weak(key: str) -> bool:
    return (
        key == getattr(settings, "DEV_FIELD_ENCRYPTION_KEY", None)
        or len(key) < MIN_KEY_LENGTH
        or len(set(key)) < 8
    )


@checks.register(checks.Tags.security, deploy=True)
def check_personal_data_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    keys = [k.strip() for k in (settings.FIELD_ENCRYPTION_KEY or "").split(",") if k.strip()]
    hash_key = getattr(settings, "FIELD_HASH_KEY", "") or ""
    for name, values in (("FIELD_ENCRYPTION_KEY", keys), ("FIELD_HASH_KEY", [hash_key] if hash_key else [])):
        if any(_weak(k) for k in values):
            errors.append(
                checks.Error(
                    f"{name} holds a key that can be guessed from a copy of the database.",
                    hint=f"Use random keys of at least {MIN_KEY_LENGTH} characters, e.g. "
                    "python -c 'import secrets; print(secrets.token_urlsafe(32))' (README.md, Configuration).",
                    id="governance.E001",
                )
            )
    # Django only warns about a weak SECRET_KEY (security.W009), and ``--fail-level ERROR`` (the compose
    # web service's) let it start: the key signs sessions and password-reset links, and a guessed
    # one forges a login as anyone. The same rules as W009, as an error.
    secret = settings.SECRET_KEY or ""
    if len(secret) < 50 or len(set(secret)) < 5 or secret.startswith("django-insecure-"):
        errors.append(
            checks.Error(
                "SECRET_KEY is short, repetitive or Django's insecure default: sessions can be forged.",
                hint="Use at least 50 random characters, e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))' (README.md, Configuration).",
                id="governance.E002",
            )
        )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_production_services(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The full stack's services (DESIGN.md section 3) when DEBUG is off. Both variables are optional
    for the embedded default, so a production start that forgot one ran on the demo's SQLite or
    with tasks run in the web request, and no check said so."""
    if settings.DEBUG:
        return []
    found: list[checks.CheckMessage] = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        found.append(
            checks.Warning(
                "DEBUG is off and the database is not PostgreSQL: SQLite takes one writer at a time, "
                "so several gunicorn workers and the Celery worker meet 'database is locked'.",
                hint="Set DATABASE_URL=postgres://user:pass@host:5432/name (README.md, Configuration).",
                id="governance.W003",
            )
        )
    if not settings.REDIS_URL:
        found.append(
            checks.Warning(
                "DEBUG is off and REDIS_URL is unset: tasks run inside the web requests, no Celery beat "
                "can run (no overdue or deadline notices, no nightly rollup) and each process keeps "
                "its own cache (the API token throttle counts per process).",
                hint="Set REDIS_URL=redis://host:6379/0 and run a worker and one beat "
                "(README.md, Running the full stack by hand).",
                id="governance.W004",
            )
        )
    return found
