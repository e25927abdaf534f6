"""A department is not deactivated while petitions routed to it still wait for its acceptance or
reply: deactivated with its people still in it, it kept them (the office takes a petition back only
from a department with nobody left), and nobody was told they needed another department before
their legal deadline."""

from __future__ import annotations

import pytest

from governance.models import Department
from petitions.models import Petition

pytestmark = pytest.mark.django_db


def _deactivate(client, department):
    url = f"/admin/governance/department/{department.pk}/change/"
    return client.post(
        url, {"name": department.name, "kind": department.kind, "area": department.area_id, "is_active": ""}
    )


def test_a_department_holding_open_petitions_is_not_deactivated(client, pet):
    cast = pet.cast
    routed, accepted, replied = pet.routed(), pet.accepted(), pet.replied()
    client.force_login(cast.admin)
    response = _deactivate(client, cast.police)
    assert response.status_code == 200  # the form again, with the reason
    html = response.content.decode()
    assert "2 petitions routed to this department are still waiting for its acceptance or reply" in html
    assert Department.objects.get(pk=cast.police.pk).is_active
    # Once they are answered (the replied one needs nothing more of the department), it may close.
    routed.transition(action="accept", actor=cast.department_user, note="书面告知已受理")
    for petition in (routed, accepted):
        petition.transition(
            action="reply", actor=cast.department_user, opinion="support", text="已责令施工单位夜间停工。"
        )
    assert not Petition.objects.filter(department=cast.police, status__in=("routed", "accepted")).exists()
    assert replied.status == Petition.Status.REPLIED
    response = _deactivate(client, cast.police)
    assert response.status_code == 302
    assert not Department.objects.get(pk=cast.police.pk).is_active


def test_an_inactive_department_is_saved_as_it_is_and_an_active_one_edited(client, pet):
    # Only the move to inactive is checked: renaming a department holding petitions is not refused.
    cast = pet.cast
    pet.accepted()
    client.force_login(cast.admin)
    url = f"/admin/governance/department/{cast.police.pk}/change/"
    data = {
        "name": "公安分局（更名）",
        "kind": cast.police.kind,
        "area": cast.police.area_id,
        "is_active": "on",
    }
    assert client.post(url, data).status_code == 302
    assert Department.objects.get(pk=cast.police.pk).name == "公安分局（更名）"
