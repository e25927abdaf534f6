"""The kinds of DOMAIN.md "Grid incidents": an item resolved on the spot by the grid worker (即办件,
closed at once with a note and photo), one handled within a promised time (承诺件), one that needs
several departments (协调件); named on the Chinese pages as DOMAIN.md names them."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance import periods
from governance.models import Membership, Role, SequenceCounter
from grids import indicators
from grids.models import Incident
from tests.base import api_client
from tests.grids.conftest import IN_GRID_A, IN_GRID_B, jpeg_bytes

SPOT = {"category": "sanitation", "description": "楼道堆放杂物", "kind": "on_the_spot",
        "resolution": "当场清理", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}  # fmt: skip


def photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["community_handler", "street_handler", "district_officer"])
def test_only_the_grids_worker_resolves_an_item_on_the_spot_a_centre_is_refused_naming_kind(
    cast, categories, who
):
    """Closed at once at grid level, an on-the-spot item skips acceptance, the on-site check and the
    close, and counts as resolved in the grid: DOMAIN.md gives it to the grid worker, on site. A centre's
    handler who reported one closed it unsupervised and raised the grid's local resolution rate."""
    response = api_client(getattr(cast, who)).post(
        "/api/v1/incidents/", {**SPOT, "photos": photo()}, format="multipart"
    )
    assert response.status_code == 400, response.json()
    assert set(response.json()["errors"]) == {"kind"}
    assert "grid worker" in response.json()["errors"]["kind"][0]
    assert not Incident.objects.exists() and SequenceCounter.current("INC", timezone.localdate().year) == 0
    # The same handler's promised-time report of the same thing is taken, waiting for acceptance.
    body = {**SPOT, "kind": "promised", "resolution": ""}
    taken = api_client(getattr(cast, who)).post("/api/v1/incidents/", body, format="json")
    assert taken.status_code == 201 and taken.json()["status"] == "reported"


@pytest.mark.django_db
def test_the_grids_worker_and_an_administrator_resolve_an_item_on_the_spot(cast, categories):
    for user in (cast.worker_a, cast.admin):
        response = api_client(user).post(
            "/api/v1/incidents/", {**SPOT, "photos": photo()}, format="multipart"
        )
        assert response.status_code == 201, response.json()
        assert response.json()["status"] == "closed"
    # Resolved in the grid the moment it is reported: both count as resolved at grid level in the
    # share of items resolved at grid or community level ("small matters stay in the village").
    month = timezone.localdate().replace(day=1)
    rows = list(indicators.incidents_local_resolution_rate(month, periods.add_months(month, 1)))
    assert [(r["area_id"], r["numerator"], r["denominator"]) for r in rows] == [(cast.grid_a.pk, 2, 2)]


@pytest.mark.django_db
def test_the_report_page_offers_a_centre_no_on_the_spot_kind_and_refuses_one_posted(cast, client, categories):
    client.force_login(cast.community_handler)
    select = re.search(
        r'<select name="kind"[^>]*>(.*?)</select>', client.get("/grids/report/").content.decode(), re.S
    )
    assert select and re.findall(r'value="(\w+)"', select.group(1)) == ["promised", "coordination"]
    response = client.post("/grids/report/", {**SPOT, "grid": cast.grid_a.code, "photos": photo()})
    assert response.status_code == 400
    assert "Only a grid worker of the grid resolves an item on the spot" in response.content.decode()
    assert not Incident.objects.exists()
    client.force_login(cast.worker_a)
    select = re.search(
        r'<select name="kind"[^>]*>(.*?)</select>', client.get("/grids/report/").content.decode(), re.S
    )
    assert select and re.findall(r'value="(\w+)"', select.group(1)) == [
        "on_the_spot",
        "promised",
        "coordination",
    ]


@pytest.mark.django_db
def test_the_chinese_pages_name_the_kinds_as_domain_md_does(cast, client, report):
    spot = report(kind="on_the_spot", resolution="当场清理", photos=[photo()])
    promised = report()
    coordination = report(kind="coordination")
    client.cookies["django_language"] = "zh-hans"
    client.force_login(cast.street_handler)
    html = client.get("/grids/inbox/").content.decode()
    done = client.get("/grids/inbox/?open=false").content.decode()  # the closed one
    for incident, term, page in (
        (spot, "即办件", done),
        (promised, "承诺件", html),
        (coordination, "协调件", html),
    ):
        row = page[page.index(f'id="row-{incident.code}"') :]
        assert term in row[: row.index("</tr>")], term
    page = client.get(f"/grids/incidents/{promised.code}/").content.decode()
    assert "<dd>承诺件</dd>" in page
    # The acceptance step's choice of kind, where a centre makes an item a coordination item.
    accept = re.search(r'<select name="kind" id="kind-accept"[^>]*>(.*?)</select>', page, re.S)
    assert accept and ">承诺件<" in accept.group(1) and ">协调件<" in accept.group(1)
    client.force_login(cast.worker_a)
    form = client.get("/grids/report/").content.decode()
    assert "即办件" in form and "就地解决" not in form and "承诺时限办理" not in form


@pytest.mark.django_db
def test_the_chinese_refusal_of_an_on_the_spot_item_without_a_resolution_names_it_as_the_form_does(
    cast, client, categories
):
    """The form, the select and the photo's refusal say 即办件; the missing resolution's still said
    就地解决, the term the kinds were renamed from."""
    client.cookies["django_language"] = "zh-hans"
    client.force_login(cast.worker_a)
    response = client.post(
        "/grids/report/", {**SPOT, "resolution": "", "grid": cast.grid_a.code, "photos": photo()}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "即办件请说明处置情况。" in html and "就地解决" not in html
    assert not Incident.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("via", ["page", "page_json", "api"])
def test_a_worker_of_another_grid_hears_the_on_the_spot_refusal_with_the_reports_other_errors(
    cast, client, categories, via
):
    """Grid B's worker, a handler over the community too, may resolve items on the spot somewhere, so
    the early check (which knows no grid) let the kind pass: reporting one in grid A without a
    description, the worker was told of the description, fixed it, and only then heard that the kind
    was refused. One submit names both."""
    Membership.objects.create(user=cast.worker_b, role=Role.HANDLER, area=cast.community_a1a)
    body = {**SPOT, "description": "", "photos": photo()}
    if via == "api":
        response = api_client(cast.worker_b).post("/api/v1/incidents/", body, format="multipart")
        assert response.status_code == 400
        errors = set(response.json()["errors"])
    else:
        client.force_login(cast.worker_b)
        headers = {"HTTP_ACCEPT": "application/json"} if via == "page_json" else {}
        response = client.post("/grids/report/", body, **headers)
        assert response.status_code == 400
        if via == "page_json":
            errors = set(response.json()["errors"])
        else:
            errors = set(response.context["form"].errors)
            assert "Only a grid worker of the grid resolves an item on the spot" in response.content.decode()
    assert errors == {"description", "kind"}
    assert not Incident.objects.exists()
    # In the worker's own grid the same item is taken: the refusal was of the grid, not of the worker.
    taken = api_client(cast.worker_b).post(
        "/api/v1/incidents/",
        {**SPOT, "lat": IN_GRID_B[0], "lng": IN_GRID_B[1], "photos": photo()},
        format="multipart",
    )
    assert taken.status_code == 201, taken.json()
