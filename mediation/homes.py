"""The mediation section of the role home pages: a mediator's open cases, overdue ones and
agreements whose judicial-confirmation window is closing."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Role
from governance.views import area_labels
from mediation import selectors
from mediation.models import DisputeCase, member_organisation_ids


def home_section(request: HttpRequest) -> dict | None:
    user = request.user
    if not user.is_authenticated or not (user.has_role(Role.MEDIATOR) or member_organisation_ids(user)):
        return None
    now = timezone.now()
    mine = DisputeCase.objects.visible_to(user).filter(mediator=user)
    home = reverse("mediation-home")
    items = list(mine.open().with_relations().order_by("due_at")[:5])
    area_labels(user, items)  # a namesake of the user's scope told apart, as on the case list
    return {
        "title": _("Dispute mediation"),
        "template": "mediation/_home_section.html",
        "links": [
            {"url": home, "label": _("My open cases"), "count": mine.open().count()},
            {"url": home + "#overdue", "label": _("Overdue"), "count": mine.overdue(now).count()},
            {
                "url": home + "#closing",
                "label": _("Confirmation window closing"),
                "count": selectors.closing_confirmations(user, now).count(),
            },
            # What is new: cases registered in the user's organisations, waiting for one of them to
            # accept (the desk's list), as every role's home says what is new.
            {
                "url": home + "#intake",
                "label": _("Waiting for acceptance in my organisations"),
                "count": selectors.intake(user).count(),
            },
            {"url": reverse("mediation-register"), "label": _("Register a case"), "count": None},
        ],
        "items": items,
    }
