"""The intake page of a city-wide petition office: its area and unit selects listed every district,
street and community (thousands of options at city scale) and every department of the city. They
are narrowed now, while registration still takes every area and unit of the officer's scope."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import Area, Department, Role
from petitions.models import Petition
from petitions.selectors import INTAKE_CHOICES_MAX
from tests.base import attrs_of, make_user
from tests.petitions.test_pages import intake_data

pytestmark = pytest.mark.django_db


def _child(parent: Area, code: str, name: str, level: str) -> Area:
    # Unsaved, for bulk_create: path and depth as ``Area.save`` derives them.
    return Area(
        code=code, name=name, level=level, parent=parent, path=f"{parent.path}{code}/", depth=parent.depth + 1
    )


def _grow(city: Area, districts: range, streets: int = 10, communities: int = 16) -> None:
    """More districts under ``city``, each with ``streets`` streets of ``communities`` communities,
    a unit per street and ``INTAKE_CHOICES_MAX // 2`` units per district."""
    for d in districts:
        district = Area.objects.bulk_create([_child(city, f"3401{d:02d}000000", f"第{d}区", "district")])[0]
        streets_made = Area.objects.bulk_create(
            _child(district, f"3401{d:02d}{s:03d}000", f"{d}区{s}街道", "street")
            for s in range(1, streets + 1)
        )
        Area.objects.bulk_create(
            _child(street, f"{street.code[:9]}{c:03d}", f"{street.name}{c}社区", "community")
            for street in streets_made
            for c in range(1, communities + 1)
        )
        Department.objects.bulk_create(
            Department(name=f"{street.name}城管中队", area=street) for street in streets_made
        )
        Department.objects.bulk_create(
            Department(name=f"科室{i}", area=district) for i in range(INTAKE_CHOICES_MAX // 2)
        )


def _select(html: str, name: str) -> str:
    return re.search(rf'<select name="{name}".*?</select>', html, re.S)[0]


def _values(select: str) -> list[str]:
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


@pytest.fixture
def city_officer(cast):
    return make_user("city_officer", Role.PETITION_OFFICER, cast.city)


def test_a_city_wide_office_gets_a_light_intake_page_that_still_registers_anywhere_in_the_city(
    client, pet, city_officer
):
    cast = pet.cast
    _grow(cast.city, range(4, 7))  # 3 more districts: 30 streets, 480 communities, 480 departments
    client.force_login(city_officer)
    html = client.get("/petitions/new/").content.decode()
    area = _select(html, "area")
    listed = _values(area)
    assert len(listed) <= INTAKE_CHOICES_MAX
    # The districts and streets, grouped by district; no community of a city-wide list.
    assert cast.district_b.code in listed and "340105003000" in listed and "340105003001" not in listed
    assert '<optgroup label="第5区">' in area and '<optgroup label="甲区">' in area
    assert cast.grid_a.code not in listed  # a grid is no petition area (docs/petitions.md)
    unit = _select(html, "complained_unit")
    assert len(_values(unit)) <= INTAKE_CHOICES_MAX
    assert str(Department.objects.get(name="5区3街道城管中队").pk) not in _values(unit)
    assert len(html) < 120_000, len(html)
    assert 'hx-get="/petitions/new/choices/"' in area  # a street picked fetches its communities

    # Picking a street asks for its communities; the street stays chosen.
    resp = client.get("/petitions/new/choices/", {"field": "area", "area": "340105003000"})
    assert resp.status_code == 200
    options = resp.content.decode()
    assert '<option value="340105003000" selected>5区3街道</option>' in options
    assert '<option value="340105003007">5区3街道 · 5区3街道7社区</option>' in options
    assert "340105004001" not in options  # not another street's
    # ... and the units of that street and district join the unit list.
    resp = client.get("/petitions/new/choices/", {"field": "complained_unit", "area": "340105003007"})
    team = Department.objects.get(name="5区3街道城管中队")
    assert f'<option value="{team.pk}">5区3街道城管中队</option>' in resp.content.decode()

    # An unlisted community and an unlisted unit are taken, as the service takes them.
    resp = client.post(
        "/petitions/new/", intake_data(cast, area="340105003007", complained_unit=str(team.pk))
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    petition = Petition.objects.get()
    assert petition.area.code == "340105003007" and petition.complained_unit == team


def test_a_refused_intake_keeps_the_unlisted_community_and_unit_chosen(client, pet, city_officer):
    cast = pet.cast
    _grow(cast.city, range(4, 7))
    team = Department.objects.get(name="5区3街道城管中队")
    client.force_login(city_officer)
    resp = client.post(
        "/petitions/new/", intake_data(cast, area="340105003007", complained_unit=str(team.pk), content="")
    )
    assert resp.status_code == 400 and list(resp.context["form"].errors) == ["content"]
    html = resp.content.decode()
    assert '<option value="340105003007" selected>' in _select(html, "area")
    assert f'<option value="{team.pk}" selected>' in _select(html, "complained_unit")
    assert not Petition.objects.exists()


def test_an_area_or_unit_outside_the_office_is_refused_with_the_field_named(client, pet):
    cast = pet.cast
    client.force_login(cast.petition_officer)  # district A
    resp = client.post(
        "/petitions/new/",
        intake_data(cast, area=cast.community_b1a.code, complained_unit=str(cast.police_b.pk)),
    )
    assert resp.status_code == 400
    errors = resp.context["form"].errors
    assert set(errors) == {"area", "complained_unit"}
    assert "outside your responsibility" in errors["area"][0]
    assert not Petition.objects.exists()
    for junk in ("nope", "\x00", "340102001001001999"):
        resp = client.post("/petitions/new/", intake_data(cast, area=junk))
        assert resp.status_code == 400 and "area" in resp.context["form"].errors
    assert not Petition.objects.exists()
    # A grid of the area is taken, as the API takes it.
    resp = client.post("/petitions/new/", intake_data(cast, area=cast.grid_a.code))
    assert resp.status_code == 302 and Petition.objects.get().area == cast.grid_a


def test_a_street_office_is_offered_its_whole_area_grouped(client, pet):
    cast = pet.cast
    _grow(cast.city, range(4, 7))
    street_officer = make_user("street_officer", Role.PETITION_OFFICER, cast.street_a1)
    client.force_login(street_officer)
    html = client.get("/petitions/new/").content.decode()
    area = _select(html, "area")
    assert _values(area) == [cast.street_a1.code, cast.community_a1a.code, cast.community_a1b.code]
    assert '<optgroup label="甲区">' in area
    assert _values(_select(html, "complained_unit")) == [str(cast.street_team.pk)]
    # A complete list is redrawn for another receipt day (areas in service then), and for a pick:
    # one made while that day's list was on its way replaces the request, so the answer keeps it.
    assert attrs_of(html, "id_area")["hx-trigger"] == "change, change from:#id_received_at"
    # Nothing of the rest of the city, even when asked for.
    resp = client.get("/petitions/new/choices/", {"field": "area", "area": "340105003000"})
    assert "340105003" not in resp.content.decode()


def test_the_intake_page_asks_the_same_number_of_queries_however_many_areas(client, pet, city_officer):
    cast = pet.cast
    _grow(cast.city, range(4, 6))
    client.force_login(city_officer)
    street = {"field": "area", "area": "340104002000"}
    client.get("/petitions/new/")  # warm-up
    client.get("/petitions/new/choices/", street)
    counts = []
    for grown in (range(0), range(6, 9)):
        _grow(cast.city, grown)
        with CaptureQueriesContext(connection) as page:
            assert client.get("/petitions/new/").status_code == 200
        with CaptureQueriesContext(connection) as choices:
            assert "340104002016" in client.get("/petitions/new/choices/", street).content.decode()
        counts.append((len(page), len(choices)))
    assert counts[0] == counts[1], counts


def test_the_choices_are_for_petition_officers_and_name_a_field(client, pet):
    client.force_login(pet.cast.department_user)
    assert client.get("/petitions/new/choices/", {"field": "area"}).status_code == 403
    client.force_login(pet.cast.petition_officer)
    assert client.get("/petitions/new/choices/", {"field": "nope"}).status_code == 400


def test_an_area_dropped_by_a_new_receipt_day_redraws_what_follows_the_area(client, pet):
    """The area list redrawn for another receipt time left the community chosen out (merged away by
    then) and the select on "choose", but the unit list and the repeat check, which follow the area's
    change, still held what they had drawn for it. The answer now fires that change after its swap."""
    cast = pet.cast
    community = cast.community_a1a
    Area.objects.filter(pk=community.pk).update(in_service_until=timezone.localdate() - dt.timedelta(days=1))
    client.force_login(cast.petition_officer)
    url = "/petitions/new/choices/"
    before = (timezone.localtime() - dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    today = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    kept = client.get(url, {"field": "area", "area": community.code, "received_at": before})
    assert f'value="{community.code}" selected' in kept.content.decode()
    assert "HX-Trigger-After-Swap" not in kept.headers
    dropped = client.get(url, {"field": "area", "area": community.code, "received_at": today})
    assert dropped.status_code == 200 and community.code not in dropped.content.decode()
    assert dropped.headers["HX-Trigger-After-Swap"] == "change"
    # Nothing chosen, or a unit's list: nothing dropped, nothing fired.
    assert "HX-Trigger-After-Swap" not in client.get(url, {"field": "area", "received_at": today}).headers
    units = client.get(url, {"field": "complained_unit", "area": community.code, "complained_unit": "0"})
    assert "HX-Trigger-After-Swap" not in units.headers
    # The selects that follow the area listen to that change.
    html = client.get("/petitions/new/").content.decode()
    assert "change from:#id_area" in html


def test_the_unit_list_follows_the_receipt_day_as_the_area_list_does(client, pet, city_officer):
    """A community merged away since the receipt day is offered (the area list follows that day),
    but the unit list looked its line up among today's areas: none found, its street's team was
    not listed for it. The unit request now carries the receipt time too."""
    _grow(pet.cast.city, range(4, 7))
    Area.objects.filter(code="340105003007").update(
        in_service_until=timezone.localdate() - dt.timedelta(days=1)
    )
    team = Department.objects.get(name="5区3街道城管中队")
    client.force_login(city_officer)
    url = "/petitions/new/choices/"
    before = (timezone.localtime() - dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    asked = {"field": "complained_unit", "area": "340105003007", "complained_unit": ""}
    then = client.get(url, {**asked, "received_at": before}).content.decode()
    assert f'value="{team.pk}"' in then
    now = client.get(url, {**asked, "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})
    assert f'value="{team.pk}"' not in now.content.decode()
    html = client.get("/petitions/new/").content.decode()
    assert "#id_received_at" in attrs_of(html, "id_complained_unit")["hx-include"]
