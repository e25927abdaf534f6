"""A department is not deactivated while incidents dispatched to it are still with it: only the
department feeds back an item it is handling (the centre re-dispatches one not yet started), so
deactivated with its people in it, it kept them, late, with nobody told they needed another one."""

from __future__ import annotations

import pytest

from governance.models import Department
from grids import services

pytestmark = pytest.mark.django_db


def _deactivate(client, department):
    url = f"/admin/governance/department/{department.pk}/change/"
    return client.post(
        url, {"name": department.name, "kind": department.kind, "area": department.area_id, "is_active": ""}
    )


def test_a_department_holding_open_incidents_is_not_deactivated(client, cast, incident_in):
    dispatched, handling = incident_in("dispatched"), incident_in("handling")
    incident_in("fed_back")  # back with the grid: needs nothing more of the department
    client.force_login(cast.admin)
    response = _deactivate(client, cast.police)
    assert response.status_code == 200  # the form again, with the reason
    assert "2 incidents dispatched to this department are still with it" in response.content.decode()
    assert Department.objects.get(pk=cast.police.pk).is_active
    services.incident_transition(
        incident=dispatched, actor=cast.admin, action="return", note="不属本部门职责"
    )
    services.incident_transition(incident=handling, actor=cast.admin, action="feedback", resolution="已处置")
    response = _deactivate(client, cast.police)
    assert response.status_code == 302
    assert not Department.objects.get(pk=cast.police.pk).is_active
