"""On an incident's page "驳回" (reject) is not styled as the primary action beside "受理" (accept)
(docs/incidents.md "Pages"): both were filled in the accent colour, so the step that ends a
report looked like the one expected of the handler. It is a plain (secondary) button now, as the
inbox's folded reject is; the step forward stays the primary one."""

from __future__ import annotations

import re

import pytest

from grids.models import Incident


def button_classes(html: str) -> dict[str, str]:
    return dict(
        (action, classes)
        for classes, action in re.findall(
            r'<button type="submit"(?: class="([^"]*)")? data-action="(\w+)"', html
        )
    )


@pytest.mark.django_db
def test_reject_is_a_secondary_button_beside_a_primary_accept(cast, client, report):
    incident = report()
    client.force_login(cast.community_handler)
    response = client.get(f"/grids/incidents/{incident.code}/")
    assert response.status_code == 200
    buttons = button_classes(response.content.decode())
    assert buttons["accept"] == "primary"
    assert "reject" in buttons and "primary" not in buttons["reject"]


@pytest.mark.django_db
def test_a_reject_refused_for_want_of_a_reason_keeps_the_styles_and_saves_nothing(cast, client, report):
    incident = report()
    client.force_login(cast.community_handler)
    response = client.post(f"/grids/incidents/{incident.code}/act/", {"action": "reject", "note": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'<textarea name="note" id="note-reject"[^>]*aria-invalid="true"', html)
    buttons = button_classes(html)
    assert buttons["accept"] == "primary" and "primary" not in buttons["reject"]
    incident.refresh_from_db()
    assert incident.status == Incident.Status.REPORTED and incident.events.count() == 1


@pytest.mark.django_db
def test_an_outsider_gets_no_page_and_no_buttons(cast, client, report):
    incident = report()
    client.force_login(cast.outsider)
    assert client.get(f"/grids/incidents/{incident.code}/").status_code == 404
