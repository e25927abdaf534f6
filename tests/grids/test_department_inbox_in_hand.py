"""A department's inbox starts at what its home counts (docs/incidents.md "Pages"): the police
liaison's home read "In hand 2" while its inbox, opened from the menu, read "事件待办 4", counting
the items the police had fed back, which wait for the grid's on-site check and a centre's close,
steps the department cannot take. Both now count what is with the department (dispatched or
handling), the inbox says so in its heading, and the items waiting for others are one filter away."""

from __future__ import annotations

import pytest

from grids.models import Incident
from tests.base import queries_of

IN_HAND_TITLE = '<h1 id="inbox-title">In hand with my department <span class="status">2</span></h1>'


@pytest.fixture
def police_items(incident_in):
    return {state: incident_in(state) for state in ("dispatched", "handling", "fed_back", "verified")}


@pytest.mark.django_db
def test_a_departments_inbox_and_home_count_the_same_items(cast, client, settings, police_items):
    client.force_login(cast.department_user)
    home = client.get("/").content.decode()
    assert 'In hand <span class="status">2</span>' in home
    response = client.get("/grids/inbox/")
    assert response.status_code == 200
    html = response.content.decode()
    assert IN_HAND_TITLE in html
    for state in ("dispatched", "handling"):
        assert f'id="row-{police_items[state].code}"' in html
    for state in ("fed_back", "verified"):
        assert f'id="row-{police_items[state].code}"' not in html
    # The summary and the status select say which: the two statuses, the department.
    assert '<option value="dispatched,handling" selected>' in html
    # The home's "In hand" link lands on the same list, under the same heading.
    pk = cast.police.pk
    in_hand = f"/grids/inbox/?department={pk}&status=dispatched&status=handling"
    assert IN_HAND_TITLE in client.get(in_hand).content.decode()
    # No query more than the list the home links to.
    assert queries_of(client, "/grids/inbox/") == queries_of(client, in_hand)
    # The items waiting for the grid's check or the close are the open ones of the department.
    html = client.get(f"/grids/inbox/?department={pk}&open=true").content.decode()
    assert '<h1 id="inbox-title">Incident inbox <span class="status">4</span></h1>' in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get("/grids/inbox/").content.decode()
    assert '<h1 id="inbox-title">本部门在办事件 <span class="status">2</span></h1>' in html
    assert '事件待办 <span class="status">' not in html


@pytest.mark.django_db
def test_a_centre_handlers_inbox_still_starts_at_every_open_item(cast, client, police_items):
    client.force_login(cast.district_officer)
    html = client.get("/grids/inbox/").content.decode()
    assert '<h1 id="inbox-title">Incident inbox <span class="status">4</span></h1>' in html


@pytest.mark.django_db
def test_a_bad_status_is_a_400_naming_the_field_and_lists_nothing(cast, client, police_items):
    client.force_login(cast.department_user)
    response = client.get("/grids/inbox/?status=nope")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Status" in html and "nope" in html
    assert not any(f'id="row-{i.code}"' in html for i in police_items.values())


@pytest.mark.django_db
def test_an_outsider_sees_none_of_the_departments_items(cast, client, police_items):
    client.force_login(cast.outsider)
    html = client.get("/grids/inbox/").content.decode()
    assert not any(i.code in html for i in police_items.values())
    handling = police_items["handling"]
    assert client.get(f"/grids/incidents/{handling.code}/").status_code == 404
    assert Incident.objects.filter(status="handling").count() == 1
