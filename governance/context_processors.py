from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from governance.homes import nav_entries


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_entries": [], "unread_notifications": 0}
    return {
        "nav_entries": nav_entries(user),
        "unread_notifications": user.notifications.filter(read_at=None).count(),
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
