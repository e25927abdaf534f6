"""The petitions section of the role home pages: for petition officers, what waits for routing, what
is overdue and the reviews they must decide; for department users, the items routed to them."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.periods import uncalendared_years
from governance.views import area_labels
from petitions.models import OFFICER_ROLES, Petition
from petitions.selectors import department_inbox, petition_list

REVIEW_STATUSES = (Petition.Status.UNDER_REVIEW, Petition.Status.UNDER_RE_REVIEW)


def home_section(request: HttpRequest) -> dict | None:
    user = request.user
    if not user.is_authenticated:
        return None
    now = timezone.now()
    registry = reverse("petitions-registry")
    if user.has_role(*OFFICER_ROLES):
        visible = petition_list(user)
        items = list(visible.filter(due_at__isnull=False).order_by("due_at")[:5])
        area_labels(user, items)  # a namesake of the user's scope told apart, as in the registry
        return {
            "title": _("Petitions"),
            "template": "petitions/_home_section.html",
            "links": [
                {"url": reverse("petitions-intake"), "label": _("Register a petition"), "count": None},
                {
                    "url": registry + "?status=registered",
                    "label": _("Waiting to be routed"),
                    "count": visible.filter(status="registered").count(),
                },
                {
                    "url": registry + "?overdue=true",
                    "label": _("Overdue"),
                    "count": visible.overdue(now).count(),
                },
                # The office decides reviews and re-reviews (30 days each): its own work, as routing is.
                {
                    "url": registry + "?" + urlencode([("status", s) for s in REVIEW_STATUSES]),
                    "label": _("Reviews to decide"),
                    "count": visible.filter(status__in=REVIEW_STATUSES).count(),
                },
            ],
            "items": items,
            "uncalendared": uncalendared_years(p.due_at for p in items),
        }
    inbox = department_inbox(user)
    if not inbox.exists():
        return None
    items = list(inbox[:5])
    area_labels(user, items)
    return {
        "title": _("Petitions routed to my department"),
        "template": "petitions/_home_section.html",
        "links": [
            {"url": reverse("petitions-inbox"), "label": _("Inbox"), "count": inbox.count()},
            {
                "url": reverse("petitions-inbox") + "?overdue=true",
                "label": _("Overdue"),
                "count": inbox.overdue(now).count(),
            },
        ],
        "items": items,
        "uncalendared": uncalendared_years(p.due_at for p in items),
    }
