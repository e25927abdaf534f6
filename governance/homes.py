"""Role home pages are assembled from sections that each app registers (its inbox, what is overdue,
what is new), so the kernel shows them without importing the apps."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

# Each provider returns None (nothing for this user) or a dict with "title", "template" and context.
_providers: list[Callable[[HttpRequest], dict | None]] = []
# Navigation entries: (url name, label, roles that see it or None for everyone).
_nav: list[tuple[str, str, frozenset[str] | None]] = []


def register_home_section(provider: Callable[[HttpRequest], dict | None]) -> None:
    if provider not in _providers:
        _providers.append(provider)


def register_nav(url_name: str, label, roles=None) -> None:
    entry = (url_name, label, frozenset(roles) if roles else None)
    if entry not in _nav:
        _nav.append(entry)


def home_sections(request: HttpRequest) -> list[dict]:
    return [s for s in (p(request) for p in _providers) if s]


def nav_entries(user) -> list[tuple[str, str]]:
    roles = user.roles() if user.is_authenticated else set()
    admin = user.is_authenticated and (user.is_superuser or "admin" in roles)
    return [(name, label) for name, label, wanted in _nav if wanted is None or admin or roles & wanted]
