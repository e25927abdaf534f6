"""A query parameter a list does not read is a 400 naming it, as on the statistics endpoints
(docs/api.md "Lists"): ``?stauts=closed`` was dropped without a word, and the answer was every record,
read as the closed ones."""

from __future__ import annotations

import pytest

from grids import services
from tests.base import api_client


@pytest.fixture
def urls(cast, categories):
    from mediation.models import DisputeCase, MediationOrganisation, OrganisationMember

    incident = services.incident_report(
        actor=cast.worker_a, category="sanitation", description="垃圾堆放", grid=cast.grid_a.code
    )
    org = MediationOrganisation.objects.create(name="调解中心", kind="street_centre", area=cast.street_a1)
    OrganisationMember.objects.create(organisation=org, user=cast.mediator, is_head=True)
    from mediation import services as mediation

    case: DisputeCase = mediation.dispute_register(
        actor=cast.mediator, category="neighbours", area=cast.grid_a, origin="application",
        description="楼上漏水导致楼下天花板受损。", organisation=org,
        parties=[{"role": "applicant", "name": "张三"}, {"role": "respondent", "name": "李四"}],
    )  # fmt: skip
    return {
        "/api/v1/areas/": "within",
        "/api/v1/areas/geojson/": "tolerance",
        "/api/v1/incidents/": "status",
        f"/api/v1/incidents/{incident.code}/events/": "page",
        "/api/v1/incidents/departments/": "month",
        "/api/v1/disputes/": "mediator",
        f"/api/v1/disputes/{case.code}/sessions/": "page_size",
        f"/api/v1/disputes/{case.code}/events/": "page",
        "/api/v1/petitions/": "due_soon",
        "/api/v1/notifications/": "unread",
    }


@pytest.mark.django_db
def test_a_parameter_a_list_does_not_read_is_a_400_naming_it(cast, urls):
    client = api_client(cast.admin)
    for url, known in urls.items():
        response = client.get(url, {"stauts": "closed", "format": "json"})
        assert response.status_code == 400, url
        errors = response.json()["errors"]
        assert list(errors) == ["stauts"], url
        message = errors["stauts"][0]
        assert message.startswith("Unknown parameter; the parameters are: ") and known in message, url
        assert client.get(url, {"format": "json"}).status_code == 200, url
    # A parameter named by digits is named as sent: it was keyed "[1]", as the item of a list.
    digits = client.get("/api/v1/incidents/", {"1": "x"})
    assert digits.status_code == 400 and list(digits.json()["errors"]) == ["1"]
    located = client.get("/api/v1/areas/locate/", {"lat": 31.805, "lng": 117.005, "radius": 50})
    assert located.status_code == 400 and list(located.json()["errors"]) == ["radius"]
    assert client.get("/api/v1/areas/locate/", {"lat": 31.805, "lng": 117.005}).status_code == 200


@pytest.mark.django_db
def test_the_role_is_refused_before_the_parameters_are_read(cast, urls):
    response = api_client(cast.worker_a).get("/api/v1/incidents/departments/", {"stauts": "x"})
    assert response.status_code == 403
    assert api_client().get("/api/v1/incidents/", {"stauts": "x"}).status_code == 401
