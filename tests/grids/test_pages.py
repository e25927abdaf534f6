from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from grids import services
from grids.models import Incident
from tests.base import (
    api_client,
    assert_filters_fold,
    assert_filters_kept,
    assert_marked_invalid,
    assert_no_alert_replaces_a_role,
    assert_records_named_safely,
    attrs_of,
    filter_form_as_shown,
)
from tests.grids.conftest import IN_GRID_A, IN_GRID_B, OUTSIDE, jpeg_bytes


def step_form(html: str, action: str) -> str:
    """The incident page's form of one step, up to its end."""
    form = html[html.index(f'data-action-form="{action}"') :]
    return form[: form.index("</form>")]


@pytest.mark.django_db
def test_my_grid_shows_the_map_and_my_open_items(cast, client, report):
    mine = report()
    report(actor=cast.worker_b, lat=IN_GRID_B[0], lng=IN_GRID_B[1])
    client.force_login(cast.worker_a)
    response = client.get("/grids/my/")
    assert response.status_code == 200
    html = response.content.decode()
    assert mine.code in html and 'data-areas="340102001001001"' in html and "my-markers" in html
    assert '<span class="muted nowrap">340102001001001</span>' in html  # never broken mid-number
    assert Incident.objects.exclude(pk=mine.pk).get().code not in html


@pytest.mark.django_db
def test_the_report_form_saves_a_report_and_confirms_the_number(cast, client, categories):
    client.force_login(cast.worker_a)
    form = client.get("/grids/report/")
    assert form.status_code == 200
    # Every label names a control; "Location" heads the locating controls and describes the button.
    html = form.content.decode()
    assert re.findall(r"<label(?![^>]*\bfor=)[^>]*>", html) == []
    assert 'aria-describedby="location-label geo-status"' in html
    photo = SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = client.post(
        "/grids/report/",
        {"category": "sanitation", "description": "路灯坏了", "kind": "promised", "lat": IN_GRID_A[0],
         "lng": IN_GRID_A[1], "photos": [photo]},
        follow=True,
    )  # fmt: skip
    incident = Incident.objects.get()
    assert incident.photos.count() == 1
    assert incident.code in response.content.decode()


@pytest.mark.django_db
def test_the_photo_inputs_offer_camera_or_gallery(cast, client, incident_in):
    # capture="environment" made phones open the camera only, one picture per pick.
    client.force_login(cast.admin)
    handling = incident_in("handling")
    for url in ("/grids/report/", f"/grids/incidents/{handling.code}/"):
        inputs = re.findall(r'<input type="file"[^>]*>', client.get(url).content.decode())
        assert inputs and all("multiple" in i and "capture" not in i for i in inputs), (url, inputs)


@pytest.mark.django_db
def test_a_failed_report_keeps_what_was_typed_and_says_what_went_wrong(cast, client, categories):
    client.force_login(cast.worker_a)
    response = client.post(
        "/grids/report/",
        {
            "category": "sanitation",
            "description": "井盖丢失",
            "kind": "promised",
            "lat": OUTSIDE[0],
            "lng": OUTSIDE[1],
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "井盖丢失" in html and "outside every grid" in html
    assert not Incident.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("as_json", [False, True])
def test_a_report_refused_by_its_form_names_its_photo_and_on_the_spot_errors_at_once(
    cast, client, categories, as_json
):
    """A missing category stopped the form before the photos were looked at: the worker fixed it,
    sent everything again, and only then heard that a photo was not an image (or was missing)."""
    client.force_login(cast.worker_a)
    headers = {"HTTP_ACCEPT": "application/json"} if as_json else {}
    fake = SimpleUploadedFile("a.jpg", b"hello", content_type="image/jpeg")
    point = {"lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}
    bad = client.post(
        "/grids/report/", {"description": "x", "kind": "promised", **point, "photos": [fake]}, **headers
    )
    spot = client.post("/grids/report/", {"description": "", "kind": "on_the_spot", **point}, **headers)
    assert bad.status_code == spot.status_code == 400
    if as_json:
        assert set(bad.json()["errors"]) == {"category", "photos"}
        assert set(spot.json()["errors"]) == {"category", "description", "resolution", "photos"}
    else:
        assert "a.jpg" in bad.content.decode()  # the photo's error, by its name
        html = spot.content.decode()
        assert "Say how you resolved it on the spot." in html
        assert "Add a photo of the result" in html
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_the_report_form_sent_twice_saves_one_incident(cast, client, categories):
    """A double tap on the plain form, or the script sending again after a lost answer: two incidents."""
    client.force_login(cast.worker_a)
    html = client.get("/grids/report/").content.decode()
    key = re.search(r'name="submission" value="([0-9a-f-]{36})"', html).group(1)
    assert key not in client.get("/grids/report/").content.decode()  # a new key for each form
    data = {"category": "sanitation", "description": "x", "kind": "promised", "lat": IN_GRID_A[0],
            "lng": IN_GRID_A[1], "submission": key}  # fmt: skip
    first = client.post("/grids/report/", data)
    again = client.post("/grids/report/", data, HTTP_ACCEPT="application/json")
    assert first.status_code == 302 and again.status_code == 201
    assert first["Location"] == again.json()["redirect"]
    assert Incident.objects.count() == 1
    refused = client.post("/grids/report/", {**data, "category": "", "submission": "x"})
    assert refused.status_code == 400 and 'name="submission" value="x"' not in refused.content.decode()
    assert re.search(r'name="submission" value="[0-9a-f-]{36}"', refused.content.decode())


@pytest.mark.django_db
def test_the_report_form_answers_json_to_the_script(cast, client, categories):
    client.force_login(cast.worker_a)
    bad = client.post(
        "/grids/report/", {"description": "x", "kind": "promised"}, HTTP_ACCEPT="application/json"
    )
    assert bad.status_code == 400 and "category" in bad.json()["errors"]
    fake = SimpleUploadedFile("a.jpg", b"hello", content_type="image/jpeg")
    bad = client.post(
        "/grids/report/",
        {"category": "sanitation", "description": "x", "kind": "promised", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1],
         "photos": [fake]},
        HTTP_ACCEPT="application/json",
    )  # fmt: skip
    assert bad.status_code == 400 and "photos" in bad.json()["errors"]
    good = client.post(
        "/grids/report/",
        {
            "category": "sanitation",
            "description": "x",
            "kind": "promised",
            "lat": IN_GRID_A[0],
            "lng": IN_GRID_A[1],
        },
        HTTP_ACCEPT="application/json",
    )
    assert good.status_code == 201 and good.json()["redirect"].endswith("/done/")


@pytest.mark.django_db
def test_the_report_map_of_a_superuser_without_a_role_draws_the_top_of_the_tree(cast, client):
    # The first account of a deployment (createsuperuser) has no grid and no membership: its report
    # page wrote data-areas="-", and the map asked the areas API for ?code=- and got a 400 "Unknown
    # area code -." in place of a map. It gets the top of the tree, as on its home.
    client.force_login(cast.admin)
    html = client.get("/grids/report/").content.decode()
    codes = attrs_of(html, "report-map")["data-areas"]
    assert codes == cast.city.code
    geojson = client.get("/api/v1/areas/geojson/", {"code": codes})
    assert geojson.status_code == 200
    assert [f["id"] for f in geojson.json()["features"]] == [cast.city.code]
    # A worker's map stays their grid, a handler's their area.
    client.force_login(cast.worker_a)
    assert (
        attrs_of(client.get("/grids/report/").content.decode(), "report-map")["data-areas"]
        == cast.grid_a.code
    )
    client.force_login(cast.community_handler)
    html = client.get("/grids/report/").content.decode()
    assert attrs_of(html, "report-map")["data-areas"] == cast.community_a1a.code


@pytest.mark.django_db
def test_analysts_and_mediators_cannot_report(cast, client):
    client.force_login(cast.mediator)
    assert client.get("/grids/report/").status_code == 403


@pytest.mark.django_db
def test_the_inbox_lists_the_subtree_with_filters_and_constant_queries(
    cast, client, report, django_assert_max_num_queries
):
    report()
    client.force_login(cast.street_handler)
    with django_assert_max_num_queries(20) as few:
        response = client.get("/grids/inbox/")
    assert response.status_code == 200
    for i in range(8):
        report(
            actor=cast.worker_b,
            lat=IN_GRID_B[0],
            lng=IN_GRID_B[1],
            category="fire_hazard" if i % 2 else "dispute",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/grids/inbox/")
    assert response.content.decode().count('id="row-INC-') == 9
    response = client.get("/grids/inbox/?category=fire_hazard")
    assert response.content.decode().count('id="row-INC-') == 4
    response = client.get(f"/grids/inbox/?grid={cast.grid_a.code}&overdue=")
    assert response.content.decode().count('id="row-INC-') == 1
    client.force_login(cast.outsider)
    assert client.get("/grids/inbox/").content.decode().count('id="row-INC-') == 0


@pytest.mark.django_db
def test_a_workers_own_reports_are_titled_so_and_a_list_without_steps_has_no_steps_column(
    cast, client, report
):
    # "All my finished reports" on the grid page opened a page titled "Incident inbox" with an
    # "Actions" column empty on every row; an analyst's inbox had the same empty column.
    report()
    client.force_login(cast.worker_a)
    html = client.get("/grids/inbox/?mine=true&open=true").content.decode()
    assert '<h1 id="inbox-title">My reports' in html and "Incident inbox" not in html
    assert html.count('id="row-INC-') == 1 and ">Actions</th>" not in html
    assert 'class="stack-full"' not in html
    client.force_login(cast.analyst)
    html = client.get("/grids/inbox/").content.decode()
    assert (
        ">Actions</th>" not in html and '<h1 id="inbox-title">Incidents <' in html
    )  # not their inbox of work
    client.force_login(cast.community_handler)  # who may take a step sees the column
    html = client.get("/grids/inbox/").content.decode()
    assert (
        '<h1 id="inbox-title">Incident inbox' in html
        and ">Actions</th>" in html
        and 'data-action="accept"' in html
    )


@pytest.mark.django_db
def test_one_click_accept_from_the_inbox_returns_the_refreshed_row(cast, client, report):
    incident = report()
    client.force_login(cast.community_handler)
    response = client.post(
        f"/grids/incidents/{incident.code}/act/",
        {"action": "accept", "from": "inbox"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith("<tr") and f'id="row-{incident.code}"' in html and 'data-action="dispatch"' in html
    assert f"Accept: done ({incident.code})." in html
    incident.refresh_from_db()
    assert incident.status == "accepted"
    again = client.post(
        f"/grids/incidents/{incident.code}/act/",
        {"action": "accept", "from": "inbox"},
        HTTP_HX_REQUEST="true",
    )
    assert "accepted" in again.content.decode() and 'class="error' in again.content.decode()
    assert incident.events.count() == 2


@pytest.mark.django_db
def test_dispatch_and_escalate_from_the_page(cast, client, incident_in):
    incident = incident_in("accepted")
    client.force_login(cast.community_handler)
    response = client.post(
        f"/grids/incidents/{incident.code}/act/", {"action": "escalate", "note": ""}, follow=True
    )
    assert "reason" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == "accepted"
    client.post(f"/grids/incidents/{incident.code}/act/", {"action": "dispatch", "department": cast.urban.pk})
    incident.refresh_from_db()
    assert incident.status == "dispatched" and incident.department == cast.urban


@pytest.mark.django_db
def test_the_incident_page_shows_map_photos_timeline_and_my_next_step(cast, client, incident_in):
    incident = incident_in(
        "fed_back", photos=[SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")]
    )
    client.force_login(cast.worker_a)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert 'id="incident-map"' in html and "/grids/photos/" in html and 'class="timeline"' in html
    assert 'data-action="verify"' in html and 'data-action="close"' not in html


@pytest.mark.django_db
def test_the_handler_who_dispatched_is_told_why_another_closes_and_a_posted_close_changes_nothing(
    cast, client, incident_in
):
    incident = incident_in("fed_back")
    Incident.objects.filter(pk=incident.pk).update(dispatched_by=cast.street_handler)
    services.incident_transition(incident=incident, actor=cast.worker_a, action="verify", result="pass")
    client.force_login(cast.street_handler)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert 'id="duty-note"' in html and 'data-action="close"' not in html
    response = client.post(f"/grids/incidents/{incident.code}/act/", {"action": "close"})
    assert response.status_code == 403 and "separate duties" in response.content.decode()  # as the API
    incident.refresh_from_db()
    assert incident.status == "verified" and not incident.events.filter(action="close").exists()
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert 'id="duty-note"' not in html and 'data-action="close"' in html


@pytest.mark.django_db
def test_pages_of_an_item_outside_my_area_are_404(cast, client, incident_in):
    incident = incident_in("reported")
    for user in (cast.worker_b, cast.outsider):
        client.force_login(user)
        assert client.get(f"/grids/incidents/{incident.code}/").status_code == 404
        assert client.post(f"/grids/incidents/{incident.code}/act/", {"action": "accept"}).status_code == 404
        assert client.get(f"/grids/report/{incident.code}/done/").status_code == 404
    incident.refresh_from_db()
    assert incident.status == "reported"


@pytest.mark.django_db
def test_home_sections_and_navigation(cast, client, report):
    report()
    client.force_login(cast.community_handler)
    html = client.get("/").content.decode()
    assert "/grids/inbox/" in html and "?overdue=true" in html
    client.force_login(cast.worker_a)
    html = client.get("/").content.decode()
    assert "/grids/my/" in html and "/grids/report/" in html
    assert client.get("/grids/").url == "/grids/my/"


@pytest.mark.django_db
def test_the_inbox_says_when_an_area_filter_is_unknown(cast, client, report):
    report()
    client.force_login(cast.street_handler)
    response = client.get("/grids/inbox/?area=000")
    assert response.status_code == 400  # a refused filter, as on the mediation and petition lists
    assert "Unknown area code 000" in response.content.decode()
    assert 'id="row-INC-' not in response.content.decode()


@pytest.mark.django_db
def test_the_inbox_lists_a_date_beyond_the_calendar_among_its_filter_errors(cast, client, report):
    report()
    client.force_login(cast.street_handler)
    for query, label in (
        ("reported_to=9999-12-31", "Reported to"),  # as its field is labelled, not the API's words
        ("reported_from=0001-01-01", "Reported from"),
    ):
        response = client.get(f"/grids/inbox/?{query}")  # was a 500
        html = response.content.decode()
        assert response.status_code == 400
        assert f"{label}: Enter a date between 1900-01-01 and 2999-12-31." in html
        assert 'id="row-INC-' not in html


@pytest.mark.django_db
def test_the_inbox_names_a_refused_filter_in_the_users_language(cast, client, report, settings):
    """The error line named the parameter ("status: ...", "reported_from: ...") on a Chinese page."""
    settings.LANGUAGE_CODE = "zh-hans"  # the product default (the test suite defaults to English)
    report()
    client.force_login(cast.street_handler)
    html = client.get("/grids/inbox/?status=bogus&reported_from=abc").content.decode()
    assert "<li>状态：" in html and "<li>上报日期起：" in html  # a Chinese colon, as the summary's
    assert "status:" not in html and "reported_from:" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, named, not_named",
    [
        (
            "zh-hans",
            ["<li>区域：未知的区划代码 000。", "<li>网格：", "<li>类别：", "<li>部门：", "<li>办结情况：", "<li>上报人："],
            ["区划代码（含全部下级）", "网格代码:", "类别代码", "部门（编号）", "仅未办结", "我上报的:"],
        ),
        (
            "en",
            [
                "<li>Area: Unknown area code 000.", "<li>Grid: ", "<li>Category: ", "<li>Department: ",
                "<li>Completion: ", "<li>Reported by: ",
            ],
            ["whole subtree", "Grid code:", "Category code", "Department (id)", "Open items only", "Reported by me:"],
        ),
    ],
)  # fmt: skip
def test_the_inbox_names_a_refused_filter_by_the_label_its_form_shows(
    cast, client, settings, report, language, named, not_named
):
    """The form beside the error says "区域" (Area); the error said "区划代码（含全部下级）", the API's label."""
    report()
    client.force_login(cast.street_handler)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    errors = ""
    # Records that name nothing in sight (each refused alone: the first stops the list), then values
    # the form refuses (a yes/no that is neither).
    nowhere = cast.police.pk + 999
    for query in (
        "area=000",
        "grid=999",
        "category=nosuch",
        f"department={nowhere}",
        "open=maybe&mine=maybe",
    ):
        response = client.get(f"/grids/inbox/?{query}")
        html = response.content.decode()
        assert response.status_code == 400 and 'id="row-INC-' not in html
        errors += html[html.index('<ul class="errorlist">') :].split("</ul>")[0]
    assert all(label in errors for label in named), errors
    assert not any(label in errors for label in not_named), errors


@pytest.mark.django_db
def test_the_inbox_treats_an_area_outside_the_scope_as_unknown(cast, client, report):
    report()
    client.force_login(cast.community_handler)
    response = client.get(f"/grids/inbox/?area={cast.grid_c.code}")  # exists, in the other community
    assert response.status_code == 400
    assert f"Unknown area code {cast.grid_c.code}" in response.content.decode()
    response = client.get(f"/grids/inbox/?area={cast.grid_a.code}")
    assert (
        "Unknown area code" not in response.content.decode() and 'id="row-INC-' in response.content.decode()
    )


@pytest.mark.django_db
def test_the_incident_page_query_count_does_not_grow_with_the_timeline(
    cast, client, incident_in, django_assert_max_num_queries
):
    short = incident_in("accepted")
    long = incident_in("evaluated")
    client.force_login(cast.community_handler)
    with django_assert_max_num_queries(30) as few:
        client.get(f"/grids/incidents/{short.code}/")
    with django_assert_max_num_queries(
        len(few.captured_queries) + 1
    ):  # +1: the evaluated item shows no dispatch list
        assert client.get(f"/grids/incidents/{long.code}/").status_code == 200


@pytest.mark.django_db
def test_a_dispute_offers_the_way_to_mediation_to_handlers_only(cast, client, report):
    dispute = report(category="dispute")
    client.force_login(cast.community_handler)
    assert 'id="to-mediation"' in client.get(f"/grids/incidents/{dispute.code}/").content.decode()
    client.force_login(cast.worker_a)
    assert 'id="to-mediation"' not in client.get(f"/grids/incidents/{dispute.code}/").content.decode()
    other = report()
    client.force_login(cast.community_handler)
    assert 'id="to-mediation"' not in client.get(f"/grids/incidents/{other.code}/").content.decode()


@pytest.mark.django_db
def test_the_inbox_filters_by_level(cast, client, report):
    street_item = report(category="work_safety")
    report()
    client.force_login(cast.street_handler)
    html = client.get("/grids/inbox/?level=street").content.decode()
    assert html.count('id="row-INC-') == 1 and street_item.code in html


@pytest.mark.django_db
def test_the_inbox_grid_filter_reaches_every_grid_beyond_a_select(cast, client, report, monkeypatch):
    # The select was cut at the first 500 grids by code: the rest of a city could not be picked.
    from grids import views

    item = report()
    client.force_login(cast.admin)
    html = client.get("/grids/inbox/").content.decode()
    assert f'<option value="{cast.grid_a.code}"' in html
    monkeypatch.setattr(views, "GRID_CHOICES_MAX", 1)
    html = client.get(f"/grids/inbox/?grid={cast.grid_a.code}").content.decode()
    assert '<option value="' + cast.grid_a.code not in html
    assert f'<input name="grid" value="{cast.grid_a.code}"' in html and item.code in html
    assert 'placeholder="Grid code"' in html  # as the other placeholders write it, capitalised


@pytest.mark.django_db
def test_a_handler_reporting_sees_the_map_of_their_own_area(cast, client, categories):
    client.force_login(cast.street_handler)
    html = client.get("/grids/report/").content.decode()
    assert f'data-areas="{cast.street_a1.code}"' in html


@pytest.mark.django_db
def test_the_admin_shows_incidents_but_neither_changes_nor_deletes_them(client, cast, report):
    incident = report()
    client.force_login(cast.admin)
    change = client.get(f"/admin/grids/incident/{incident.pk}/change/")
    assert change.status_code == 200 and incident.code in change.content.decode()
    assert client.get(f"/admin/grids/incident/{incident.pk}/delete/").status_code == 403
    assert client.post(f"/admin/grids/incident/{incident.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()


@pytest.mark.django_db
def test_the_admin_refuses_a_negative_or_zero_time_limit_for_a_category(client, cast, categories):
    category = categories["sanitation"]
    before = (category.accept_hours, category.dispatch_hours, category.handle_hours, category.verify_hours)
    client.force_login(cast.admin)
    url = f"/admin/grids/incidentcategory/{category.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data["parent"] = data.get("parent") or ""
    for field, bad, message in (
        ("accept_hours", "-48", "Ensure this value is greater than or equal to 0.1."),
        ("dispatch_hours", "0", "Ensure this value is greater than or equal to 0.1."),
        ("verify_hours", "-1", "Ensure this value is greater than or equal to 0.1."),
        ("handle_hours", "0", "Ensure this value is greater than or equal to 1."),
    ):
        response = client.post(url, {**data, field: bad})
        assert response.status_code == 200  # the form again, with the error
        assert response.context["adminform"].form.errors[field] == [message]
    category.refresh_from_db()
    assert (
        category.accept_hours,
        category.dispatch_hours,
        category.handle_hours,
        category.verify_hours,
    ) == before
    response = client.post(url, {**data, "accept_hours": "0.5"})
    assert response.status_code == 302
    category.refresh_from_db()
    assert str(category.accept_hours) == "0.5"


@pytest.mark.django_db
def test_the_admin_refuses_a_category_under_itself_or_under_its_own_subcategory(
    client, cast, categories, settings
):
    # A new city's administrator arranging the categories made one its own parent, and another the
    # parent of its own parent: the admin took both, a tree with no root.
    settings.LANGUAGE_CODE = "en"
    top, sub = categories["sanitation"], categories["fire_hazard"]
    sub.parent = top
    sub.save()
    client.force_login(cast.admin)
    url = f"/admin/grids/incidentcategory/{top.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    for parent in (top, sub):
        response = client.post(url, {**data, "parent": parent.pk})
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["parent"] == [
            "A category cannot sit under itself or under one of its own subcategories."
        ]
        top.refresh_from_db()
        assert top.parent_id is None
    other = categories["other"]
    assert client.post(url, {**data, "parent": other.pk}).status_code == 302
    top.refresh_from_db()
    assert top.parent_id == other.pk


@pytest.mark.django_db
def test_a_refused_step_on_the_incident_page_keeps_what_was_typed_next_to_the_form(cast, client, incident_in):
    """A department worker feeding back from a phone: one photo is refused. The page must come back
    with the error inside the feed-back form and the typed text still there, not a redirect that
    throws it away."""
    incident = incident_in("handling")
    client.force_login(cast.department_user)
    fake = SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg")
    response = client.post(
        f"/grids/incidents/{incident.code}/act/",
        {"action": "feedback", "resolution": "已清理垃圾并消毒", "note": "居民已确认", "photos": [fake]},
    )
    assert response.status_code == 400
    html = response.content.decode()
    form = step_form(html, "feedback")
    assert form.index('for="photos-fb"') < form.index('id="act-error"') < form.index('id="photos-fb"')
    assert ">已清理垃圾并消毒</textarea>" in form and ">居民已确认</textarea>" in form
    incident.refresh_from_db()
    assert incident.status == "handling"


@pytest.mark.django_db
def test_a_step_refused_for_a_missing_reason_is_shown_in_that_steps_form(cast, client, incident_in):
    incident = incident_in("accepted")
    client.force_login(cast.community_handler)
    response = client.post(f"/grids/incidents/{incident.code}/act/", {"action": "escalate", "note": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="act-error"' in step_form(html, "escalate")
    # The language switch on that page comes back to the incident's page: its own address takes
    # POST only, and the switch answered with a blank 405.
    page = f"/grids/incidents/{incident.code}/"
    assert f'<input name="next" type="hidden" value="{page}">' in html
    switched = client.post("/i18n/setlang/", {"language": "en", "next": page})
    assert switched.status_code == 302 and switched["Location"] == page
    assert client.get(page).status_code == 200


@pytest.mark.django_db
def test_the_accept_form_keeps_the_kind_the_worker_reported(cast, client, report):
    """An item reported as needing coordination was accepted as "promised time" from its page: the
    kind select always started at promised, so one click silently changed the kind."""
    incident = report(kind="coordination")
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    select = html[html.index('id="kind-accept"') :]
    select = select[: select.index("</select>")]
    assert '<option value="coordination" selected>' in select
    assert '<option value="promised" selected>' not in select
    plain = report()
    html = client.get(f"/grids/incidents/{plain.code}/").content.decode()
    select = html[html.index('id="kind-accept"') :]
    assert '<option value="coordination" selected>' not in select[: select.index("</select>")]


@pytest.mark.django_db
def test_a_departments_inbox_and_home_start_at_what_was_dispatched_to_it(cast, client, incident_in):
    """A police liaison's inbox and home listed every open item of the district (thousands in a city),
    with no way to narrow them to what was dispatched to the police."""
    ours = incident_in("handling")  # dispatched to the police
    waiting = incident_in("reported")
    theirs = incident_in("accepted")
    services.incident_transition(
        incident=theirs, actor=cast.admin, action="dispatch", department=cast.urban.pk
    )
    client.force_login(cast.department_user)
    html = client.get("/grids/inbox/").content.decode()
    assert f'id="row-{ours.code}"' in html
    assert f'id="row-{waiting.code}"' not in html and f'id="row-{theirs.code}"' not in html
    assert f'<option value="{cast.police.pk}" selected>' in html  # the filter says why, and can be cleared
    html = client.get("/grids/inbox/?department=&open=true").content.decode()
    assert f'id="row-{waiting.code}"' in html and f'id="row-{theirs.code}"' in html
    home = client.get("/").content.decode()
    assert (
        f"?department={cast.police.pk}&amp;status=dispatched&amp;status=handling" in home
        and ours.code in home
    )
    assert waiting.code not in home and theirs.code not in home
    # A centre handler's inbox is unchanged: everything open in the subtree.
    client.force_login(cast.district_officer)
    html = client.get("/grids/inbox/").content.decode()
    assert all(f'id="row-{i.code}"' in html for i in (ours, waiting, theirs))


@pytest.mark.django_db
def test_a_step_sent_after_the_session_ended_leads_back_to_the_incident_after_signing_in(
    cast, client, incident_in
):
    """login_required sent the user to sign in with next=.../act/, a POST-only address: after signing
    in the phone showed a bare 405. From the inbox, htmx swapped the login page into the row."""
    incident = incident_in("handling")
    url = f"/grids/incidents/{incident.code}/act/"
    response = client.post(url, {"action": "feedback", "resolution": "done"})
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next=/grids/incidents/{incident.code}/"
    response = client.post(url, {"action": "feedback", "from": "inbox"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content == b""
    assert response["HX-Redirect"] == "/accounts/login/?next=/grids/inbox/"
    incident.refresh_from_db()
    assert incident.status == "handling"
    client.force_login(cast.department_user)
    assert client.get(f"/grids/incidents/{incident.code}/").status_code == 200


@pytest.mark.django_db
def test_the_inbox_and_my_grid_show_the_year_of_dates(cast, client, report):
    """Sorted by deadline, an item overdue since last year heads the inbox: without the year its
    '11-12 11:17' read as three weeks late, not a year and three weeks."""
    import datetime as dt

    from django.utils import timezone

    incident = report()
    due = timezone.now() - dt.timedelta(days=400)
    Incident.objects.filter(pk=incident.pk).update(due_at=due, reported_at=due - dt.timedelta(days=1))
    due_text = timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
    client.force_login(cast.community_handler)
    assert due_text in client.get("/grids/inbox/").content.decode()
    client.force_login(cast.worker_a)
    assert due_text in client.get("/grids/my/").content.decode()


@pytest.mark.django_db
def test_the_inbox_button_to_a_steps_form_does_not_read_unfinished(cast, client, incident_in, settings):
    """The link to the incident's next-step form was labelled "Open", the catalogue's word for open
    (unfinished) items: the Chinese button read 未办结."""
    settings.LANGUAGE_CODE = "zh-hans"  # the product default (the test suite defaults to English)
    incident = incident_in("handling")  # the community centre may feed back: a step with a form
    client.force_login(cast.community_handler)
    html = client.get("/grids/inbox/").content.decode()
    row = html[html.index(f'id="row-{incident.code}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/grids/incidents/{incident.code}/#act">办理操作</a>' in row
    assert "未办结" not in row


@pytest.mark.django_db
def test_the_incident_page_labels_its_place_as_an_address_not_a_residence(cast, client, report, settings):
    """The incident's address shared the msgid "Address" with parties' and petitioners' home
    addresses, so the Chinese page called the place of an incident 住址 (someone's residence)."""
    settings.LANGUAGE_CODE = "zh-hans"  # the product default (the test suite defaults to English)
    incident = report(address="3号楼东侧")
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert "<dt>地址或参照地标</dt><dd>3号楼东侧</dd>" in html and "住址" not in html


@pytest.mark.django_db
def test_a_refusal_is_shown_at_the_field_it_names(cast, client, incident_in):
    """A failed check without saying what is still wrong: the error sits between the note's label and
    the note, not above the on-site check select as if the select were wrong."""
    incident = incident_in("fed_back")
    client.force_login(cast.worker_a)
    response = client.post(f"/grids/incidents/{incident.code}/act/", {"action": "verify", "result": "fail"})
    assert response.status_code == 400
    html = response.content.decode()
    form = step_form(html, "verify")
    label, error, note = (
        form.index('for="note-verify"'),
        form.index('id="act-error"'),
        form.index('id="note-verify"'),
    )
    assert form.index('id="result-verify"') < label < error < note
    assert '<option value="fail" selected>' in form  # what the worker chose is kept
    incident.refresh_from_db()
    assert incident.status == "fed_back"


@pytest.mark.django_db
def test_dispatch_starts_with_no_department_chosen(cast, client, incident_in):
    """The department select used to preselect its first entry, so one tap dispatched the item there."""
    incident = incident_in("accepted")
    client.force_login(cast.community_handler)
    for url in (f"/grids/incidents/{incident.code}/", "/grids/inbox/"):
        html = client.get(url).content.decode()
        select = html[html.index('<select name="department"') :]
        first = select[select.index("<option") : select.index("</option>")]
        assert first.startswith('<option value="">'), (url, first)
    response = client.post(f"/grids/incidents/{incident.code}/act/", {"action": "dispatch", "department": ""})
    assert response.status_code == 400
    html = response.content.decode()
    form = step_form(html, "dispatch")
    assert form.index('id="act-error"') < form.index('<select name="department"')
    assert "Choose the department to dispatch to." in form
    incident.refresh_from_db()
    assert incident.status == "accepted" and incident.department is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "state, user, action, field, select, error",
    [
        ("fed_back", "worker_a", "verify", "result", "result-verify", "Say whether the on-site check passed"),
        (
            "closed",
            "worker_a",
            "evaluate",
            "evaluation",
            "evaluation",
            "Choose satisfied, basically satisfied",
        ),
    ],
)
def test_the_on_site_check_and_the_evaluation_start_with_nothing_chosen(
    cast, client, incident_in, state, user, action, field, select, error
):
    """The check preselected "passed" and the evaluation "satisfied": one tap on the step's button
    passed an item nobody had looked at, or recorded a satisfaction nobody had given."""
    incident = incident_in(state)
    client.force_login(getattr(cast, user))
    form = step_form(client.get(f"/grids/incidents/{incident.code}/").content.decode(), action)
    options = form[form.index(f'id="{select}"') :]
    assert options[options.index("<option") :].startswith('<option value="">')  # a choice to make
    assert " selected" not in options[: options.index("</select>")]
    assert f'id="{select}" required' in form
    response = client.post(f"/grids/incidents/{incident.code}/act/", {"action": action, field: ""})
    assert response.status_code == 400
    form = step_form(response.content.decode(), action)
    assert form.index('id="act-error"') < form.index(f'id="{select}"') and error in form
    incident.refresh_from_db()
    assert incident.status == state and incident.evaluation == ""


@pytest.mark.django_db
def test_the_inbox_filters_read_as_labels_in_english(cast, client):
    """Choice labels are lowercase in the code ("verified", "community"); as options they start with
    a capital, like every other label of the English pages."""
    client.force_login(cast.community_handler)
    html = client.get("/grids/inbox/").content.decode()
    filters = html[html.index('id="inbox-filters"') : html.index("</form>", html.index('id="inbox-filters"'))]
    assert (
        '<option value="">Any</option>' in filters and '<option value="verified">Verified</option>' in filters
    )
    assert '<option value="community">Community</option>' in filters and ">any<" not in filters


@pytest.mark.django_db
def test_the_pin_outside_warning_is_worded_for_the_role(cast, client, categories):
    """A handler reporting was told to move the pin "into your grid, or choose the grid below": a
    handler has an area of many grids and the page shows them no grid select."""
    worded = {}
    for user in (cast.worker_a, cast.community_handler):
        client.force_login(user)
        html = client.get("/grids/report/").content.decode()
        worded[user.username] = re.search(r'data-outside="([^"]*)"', html)[1]
        assert ('name="grid"' in html) == (user == cast.worker_a)  # the select the worker's text names
    assert worded["worker_a"] == (
        "The pin is not in any grid of your area: move it into your grid, or choose the grid below."
    )
    assert (
        worded["community_handler"]
        == "The pin is not in any grid of your area: move it into one of its grids."
    )


def _described_errors(html: str) -> dict[str, str]:
    """{field name: the text of the lists its aria-describedby names} for each field marked invalid."""
    out = {}
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'aria-invalid="true"' not in tag:
            continue
        name = re.search(r'name="(\w+)"', tag)[1]
        ids = re.search(r'aria-describedby="([^"]*)"', tag)[1].split()
        texts = []
        for id_ in ids:
            if id_.endswith("_helptext"):  # the field's help, not an error: it must be on the page too
                assert f'id="{id_}"' in html, f"{name} is described by {id_}, which is not on the page"
                continue
            listed = re.search(rf'<ul [^>]*id="{id_}"[^>]*>(.*?)</ul>', html, re.S)
            assert listed, f"{name} is described by {id_}, which is not on the page"
            texts.append(re.sub(r"<[^>]+>", " ", listed[1]).strip())
        out[name] = " ".join(t for t in texts if t)
    return out


@pytest.mark.django_db
def test_the_report_fields_in_error_are_marked_invalid_and_described_by_their_error(cast, client, categories):
    """Django marked the fields aria-invalid and described by "id_<field>_error", an id no list on the
    page had; the photo input was never marked. A point outside every grid is listed once, under the
    latitude, and describes the longitude as well."""
    client.force_login(cast.worker_a)
    html = client.post("/grids/report/", {"kind": "promised", "address": "街" * 201}).content.decode()
    described = _described_errors(html)
    assert set(described) == {"category", "description", "address", "lat"}, described
    assert (
        described["category"] == "Choose a category."
        and described["description"] == "Describe what you found."
        and described["lat"] == "Give the location (lat and lng) or the grid."
    )
    assert "At most 200 characters" in described["address"]

    html = client.post(
        "/grids/report/",
        {"category": "sanitation", "description": "井盖丢失", "kind": "promised", "lat": OUTSIDE[0], "lng": OUTSIDE[1]},
    ).content.decode()  # fmt: skip
    described = _described_errors(html)
    assert set(described) == {"lat", "lng"} and described["lat"] == described["lng"], described
    assert "outside every grid" in described["lat"]

    fake = SimpleUploadedFile("a.jpg", b"hello", content_type="image/jpeg")
    html = client.post(
        "/grids/report/",
        {"category": "sanitation", "description": "x", "kind": "promised", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1],
         "photos": [fake]},
    ).content.decode()  # fmt: skip
    assert set(_described_errors(html)) == {"photos"}
    # Nothing is marked on a page without errors.
    assert "aria-invalid" not in client.get("/grids/report/").content.decode()


@pytest.mark.django_db
def test_categories_are_named_in_the_pages_language(cast, client, report, settings):
    """The default categories are shipped in Chinese and English (DOMAIN.md's list): an English page
    showed 环境卫生 among its English words. A category added or renamed in the admin without an
    English name shows its name in both languages."""
    from grids.models import IncidentCategory

    incident = report()  # sanitation
    IncidentCategory.objects.create(code="stray_dogs", name="流浪犬", handle_hours=72)
    client.force_login(cast.street_handler)
    english = client.get("/grids/inbox/").content.decode()
    assert "Sanitation and environment" in english and "环境卫生" not in english
    assert re.search(r'<option value="stray_dogs"[^>]*>流浪犬</option>', english)
    assert "Sanitation and environment" in client.get(f"/grids/incidents/{incident.code}/").content.decode()
    client.force_login(cast.worker_a)
    form = client.get("/grids/report/").content.decode()
    assert re.search(r'<option value="sanitation"[^>]*>Sanitation and environment</option>', form)
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.street_handler)
    chinese = client.get("/grids/inbox/").content.decode()
    assert "环境卫生" in chinese and "Sanitation and environment" not in chinese


@pytest.mark.django_db
def test_a_default_category_renamed_in_the_admin_keeps_no_english_name(categories):
    """The migration names only the defaults as 0002 left them: a category an administrator renamed
    shows the new name, not a translation of the old one."""
    import importlib

    from django.apps import apps

    from grids.models import IncidentCategory

    IncidentCategory.objects.update(name_en="")
    IncidentCategory.objects.filter(code="other").update(name="其他事项")
    importlib.import_module("grids.migrations.0012_category_name_en").name_defaults(apps, None)
    names = dict(IncidentCategory.objects.values_list("code", "name_en"))
    assert names["other"] == "" and names["fire_hazard"] == "Fire hazard"
    assert str(IncidentCategory.objects.get(code="other")) == "其他事项"


@pytest.mark.django_db
def test_a_step_sent_twice_reads_as_done_but_one_taken_by_another_handler_first_is_an_error(
    cast, client, incident_in
):
    """A double tap on a slow phone: the first send verified the item, and the page answered the
    second with "cannot verify: the record is verified", as if the check had failed to save."""
    incident = incident_in("fed_back")
    url = f"/grids/incidents/{incident.code}/act/"
    client.force_login(cast.worker_a)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    latest = incident.events.latest("id").pk  # the state carries the latest event (docs/incidents.md)
    assert f'name="state" value="fed_back/community@{latest}"' in step_form(html, "verify")
    data = {"action": "verify", "result": "pass", "state": "fed_back/community"}
    assert client.post(url, data).status_code == 302
    again = client.post(url, data, follow=True)
    assert again.status_code == 200 and "On-site check passed" in again.content.decode()
    assert incident.events.filter(action="verify").count() == 1
    # In the inbox (htmx), the handler's second click on close: the row says done, not an error.
    client.force_login(cast.street_handler)
    close = {"from": "inbox", "action": "close", "state": "verified/community"}
    assert "Close: done" in client.post(url, close, HTTP_HX_REQUEST="true").content.decode()
    row = client.post(url, close, HTTP_HX_REQUEST="true").content.decode()
    assert "Close: done" in row and 'class="error' not in row
    # Another handler's step taken first is still refused, with the state it is in.
    other = incident_in("reported")
    client.force_login(cast.community_handler)
    accept = {"action": "accept", "state": "reported/community"}
    assert client.post(f"/grids/incidents/{other.code}/act/", accept).status_code == 302
    client.force_login(cast.street_handler)
    late = client.post(f"/grids/incidents/{other.code}/act/", accept)
    assert late.status_code == 409 and late.context["act_error"].startswith("Cannot accept")
    assert other.events.filter(action="accept").count() == 1
    # An escalation sent twice by the district went up two levels (community -> street -> district).
    up = incident_in("reported")
    client.force_login(cast.district_officer)
    escalate = {"action": "escalate", "note": "needs the street", "state": "reported/community"}
    assert client.post(f"/grids/incidents/{up.code}/act/", escalate).status_code == 302
    assert client.post(f"/grids/incidents/{up.code}/act/", escalate).status_code == 302
    up.refresh_from_db()
    assert up.level == "street" and up.events.filter(action="escalate").count() == 1
    # The street's own form, drawn after the escalation, escalates it further as asked.
    escalate["state"] = "reported/street"
    assert client.post(f"/grids/incidents/{up.code}/act/", escalate).status_code == 302
    up.refresh_from_db()
    assert up.level == "district" and up.events.filter(action="escalate").count() == 2


@pytest.mark.django_db
def test_my_grid_links_every_finished_report_of_mine_past_the_last_ten(cast, client, report):
    from governance.models import Role
    from tests.base import make_user, queries_of

    colleague = make_user("worker_a2", Role.GRID_WORKER, cast.grid_a)
    mine = [report() for _ in range(12)]
    theirs = report(actor=colleague)
    Incident.objects.update(status=Incident.Status.CLOSED, due_at=None)
    client.force_login(cast.worker_a)
    html = client.get("/grids/my/").content.decode()
    assert sum(i.code in html for i in mine) == 10  # the last ten, and the way to the rest
    assert "/grids/inbox/?mine=true&amp;open=false" in html
    listed = client.get("/grids/inbox/", {"mine": "true", "open": "false"}).content.decode()
    assert all(i.code in listed for i in mine) and theirs.code not in listed
    assert 'name="mine"' in listed and '<option value="true" selected>' in listed
    assert theirs.code in client.get("/grids/inbox/", {"mine": "false", "open": "false"}).content.decode()
    refused = client.get("/grids/inbox/", {"mine": "maybe"})
    assert refused.status_code == 400 and mine[0].code not in refused.content.decode()
    few = queries_of(client, "/grids/inbox/", mine="true", open="false")
    for _ in range(5):
        report()
    Incident.objects.update(status=Incident.Status.CLOSED, due_at=None)
    assert queries_of(client, "/grids/inbox/", mine="true", open="false") == few


@pytest.mark.django_db
def test_the_api_lists_the_reports_of_the_requesting_user(cast, report):
    from tests.base import api_client, listed_codes

    mine, other = report(), report(actor=cast.community_handler)
    client = api_client(cast.community_handler)
    assert listed_codes(client, "/api/v1/incidents/", mine="true") == {other.code}
    assert mine.code in listed_codes(client, "/api/v1/incidents/", mine="false")
    refused = client.get("/api/v1/incidents/", {"mine": "maybe"})
    assert refused.status_code == 400 and "mine" in refused.json()["errors"]


@pytest.mark.django_db
def test_the_inbox_filter_form_sent_as_shown_lists_the_rows(cast, client, report):
    """Pressing Filter with the status left at "any" sent ``status=``, which the status filter refused
    as an unknown choice: a 400 and no rows for the form as the page shows it."""
    report()
    report(category="fire_hazard")
    client.force_login(cast.street_handler)
    query = filter_form_as_shown(client.get("/grids/inbox/").content.decode())
    assert "status=" in query.split("&")
    response = client.get(f"/grids/inbox/?{query}")
    assert response.status_code == 200 and response.content.decode().count('id="row-INC-') == 2
    response = client.get(f"/grids/inbox/?{query.replace('category=&', 'category=fire_hazard&')}")
    assert response.status_code == 200 and response.content.decode().count('id="row-INC-') == 1
    api = api_client(cast.street_handler).get("/api/v1/incidents/?status=&status=reported")
    assert api.status_code == 200 and api.json()["count"] == 2
    assert api_client(cast.street_handler).get("/api/v1/incidents/?status=done").status_code == 400


@pytest.mark.django_db
def test_one_report_submit_tells_the_place_and_time_with_the_forms_own_errors(cast, client, categories):
    """Without a category, a time to come and a point outside the worker's grids were told only on the
    second submit, once the category had been chosen."""
    import datetime as dt

    from django.utils import timezone

    client.force_login(cast.worker_a)
    future = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "description": "x",
        "kind": "promised",
        "occurred_at": future,
        "lat": OUTSIDE[0],
        "lng": OUTSIDE[1],
    }
    response = client.post("/grids/report/", data, HTTP_ACCEPT="application/json")
    errors = response.json()["errors"]
    assert response.status_code == 400 and set(errors) == {"category", "occurred_at", "lat", "lng"}, errors
    assert errors["occurred_at"] == ["The time it happened cannot be in the future."]
    assert "outside every grid of your area" in errors["lat"][0]
    # No location at all is named as well; a latitude the form refuses keeps its own message.
    response = client.post(
        "/grids/report/", {"description": "x", "kind": "promised"}, HTTP_ACCEPT="application/json"
    )
    assert response.json()["errors"]["lat"] == ["Give the location (lat and lng) or the grid."]
    response = client.post("/grids/report/", {**data, "lat": "200"}, HTTP_ACCEPT="application/json")
    assert response.json()["errors"]["lat"] == ["Ensure this value is less than or equal to 90."]
    assert "lng" not in response.json()["errors"]
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_the_report_page_asks_for_no_residents_names(cast, client, categories, settings):
    """Every reader of an incident (analysts among them) reads its description as typed: the page says
    what belongs there, next to the field and read out with it."""
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.worker_a)
    html = client.get("/grids/report/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert (
        '<small class="muted" id="id_description_helptext">写清地点和问题，不要填写居民的姓名、身份证号或电话。</small>'
        in html
    )
    assert re.search(r'<textarea[^>]*name="description"[^>]*aria-describedby="id_description_helptext"', html)


@pytest.mark.django_db
def test_an_empty_report_post_names_the_missing_fields_with_a_400(cast, client, categories):
    # An empty body was read as "no form sent": the blank form came back as if it had been asked for.
    client.force_login(cast.worker_a)
    response = client.post("/grids/report/", {})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_the_inbox_pages_have_a_total_order(cast, client, report):
    # Items that tie on deadline and report time had no fixed order across pages: one could be on two
    # pages and another on none.
    report()
    client.force_login(cast.street_handler)
    assert client.get("/grids/inbox/").context["page"].object_list.query.order_by[-1] in ("-id", "-pk")


@pytest.mark.django_db
def test_a_centre_handler_filters_the_inbox_by_the_department_it_dispatched_to(cast, client, incident_in):
    # The API's ?department= was on the page only for a department's own people: a centre could not
    # list what it had sent to the police.
    police = incident_in("handling")  # dispatched to the police
    urban = incident_in("accepted")
    services.incident_transition(
        incident=urban, actor=cast.admin, action="dispatch", department=cast.urban.pk
    )
    client.force_login(cast.community_handler)
    html = client.get("/grids/inbox/").content.decode()
    select = html[html.index('<select name="department"') :]
    select = select[: select.index("</select>")]
    # Its street's and district's departments, by area; not another district's.
    assert f'<optgroup label="{cast.district_a.name}">' in select
    assert f'<optgroup label="{cast.street_a1.name}">' in select
    assert f'value="{cast.police.pk}"' in select and f'value="{cast.street_team.pk}"' in select
    assert f'value="{cast.police_b.pk}"' not in select
    html = client.get(f"/grids/inbox/?department={cast.police.pk}").content.decode()
    assert f'id="row-{police.code}"' in html and f'id="row-{urban.code}"' not in html
    assert f'<option value="{cast.police.pk}" selected>' in html
    # A grid worker's list of reports has no such filter.
    client.force_login(cast.worker_a)
    assert '<select name="department"' not in client.get("/grids/inbox/?mine=true").content.decode()


@pytest.mark.django_db
def test_the_confirmation_gives_the_acceptance_deadline_only_while_the_item_waits(cast, client, report):
    # Reopened after acceptance, it gave the dispatch deadline as "To be accepted by". It names who
    # accepts it ("To be accepted by 10:30" said when, not by whom).
    incident = report()
    client.force_login(cast.worker_a)
    # The deadline is kept whole, one .nowrap span (it broke 2026-12- / 08 on a phone), escaped once.
    due = f'<span class="nowrap" id="acceptance-due">{timezone.localtime(incident.due_at):%Y-%m-%d %H:%M}</span>'
    html = client.get(f"/grids/report/{incident.code}/done/").content.decode()
    assert f"The community centre accepts it by {due}." in html
    client.cookies["django_language"] = "zh-hans"
    html = client.get(f"/grids/report/{incident.code}/done/").content.decode()
    assert f"社区综治中心将于 {due} 前受理。" in html
    del client.cookies["django_language"]
    services.incident_transition(incident=incident, actor=cast.community_handler, action="accept")
    html = client.get(f"/grids/report/{incident.code}/done/").content.decode()
    assert "accepts it by" not in html and incident.code in html


@pytest.mark.django_db
def test_a_status_chosen_in_the_inbox_decides_alone(cast, client, incident_in):
    # The form sends "open only" (shown at "open" by default) with the status: "closed" listed nothing.
    closed = incident_in("closed")
    client.force_login(cast.community_handler)
    html = client.get("/grids/inbox/", {"status": "closed", "open": "true"}).content.decode()
    assert f'id="row-{closed.code}"' in html
    select = html[html.index('<select name="open">') :]
    assert "selected" not in select[: select.index("</select>")]  # the form says what was listed


@pytest.mark.django_db
def test_an_inbox_row_links_to_its_page_once_whatever_the_steps_taken_there(cast, client, incident_in):
    # Each step the row cannot take in place had its own "Next step" link: two identical links
    # for an item with feedback and assist open to the same person.
    from grids.models import allowed_actions

    item = incident_in("handling", kind="coordination")
    assert {"feedback", "assist"} <= set(allowed_actions(cast.admin, item))
    client.force_login(cast.admin)
    html = client.get("/grids/inbox/").content.decode()
    row = html[html.index(f'id="row-{item.code}"') :]
    row = row[: row.index("</tr>")]
    assert row.count("Next step") == 1 and f'href="/grids/incidents/{item.code}/#act"' in row


@pytest.mark.django_db
def test_my_grid_heads_the_workers_own_open_reports_as_reports_not_as_things_to_do(
    cast, client, settings, report
):
    """The list of the worker's reports waiting for the centres was headed "我的待办事项" (my to-do
    items): they are not the worker's to do. It now reads as the home page's link to it does."""
    client.force_login(cast.worker_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get("/grids/my/").content.decode()
    mine = html[html.index('id="my-open"') :].split("</section>")[0]
    assert '<h2>我上报的未办结事件 <span class="status">0</span></h2>' in mine
    assert "您上报的事件均已办结。" in mine  # none open: not "待办已全部完成，辛苦了！"
    assert "待办" not in html[html.index("<main") :]
    report()
    html = client.get("/grids/my/").content.decode()
    assert '<h2>我上报的未办结事件 <span class="status">1</span></h2>' in html
    assert 'aria-label="我的网格及我上报的未办结事件地图"' in html
    assert "待办" not in html[html.index("<main") :]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/grids/my/").content.decode()
    assert '<h2>My open reports <span class="status">1</span></h2>' in html
    assert 'aria-label="Map of my grid and my open reports"' in html
    assert "open items" not in html


@pytest.mark.django_db
def test_my_grid_counts_everything_and_links_to_what_it_does_not_show(
    cast, client, report, incident_in, monkeypatch
):
    # Past the first 200 (50 to verify) the headings gave the cap as the count, and the rest went unmentioned.
    from grids import views

    monkeypatch.setattr(views, "MY_GRID_SHOWN", 2)
    mine = [report() for _i in range(3)]
    checks = [incident_in("fed_back") for _i in range(3)]
    client.force_login(cast.worker_a)
    html = client.get("/grids/my/").content.decode()
    # The items waiting for a check are reports of theirs too: 6 open.
    assert '<h2>My open reports <span class="status">6</span></h2>' in html
    assert '<h2>To verify on site <span class="status">3</span></h2>' in html
    assert '<h3 class="grids-subhead">Reported (2)</h3>' in html  # a heading, capitalised
    client.cookies["django_language"] = "zh-hans"
    zh = client.get("/grids/my/").content.decode()
    assert '<h3 class="grids-subhead">已上报（2）</h3>' in zh  # the full-width bracket, no space before it
    assert 'id="open-more"' in html and 'href="/grids/inbox/?mine=true&amp;open=true"' in html
    assert 'id="verify-more"' in html and 'href="/grids/inbox/?status=fed_back"' in html
    listed = client.get("/grids/inbox/?status=fed_back").content.decode()
    assert all(f'id="row-{i.code}"' in listed for i in checks)
    listed = client.get("/grids/inbox/?mine=true&open=true").content.decode()
    assert all(f'id="row-{i.code}"' in listed for i in mine + checks)
    monkeypatch.setattr(views, "MY_GRID_SHOWN", 100)
    html = client.get("/grids/my/").content.decode()
    assert 'id="open-more"' not in html and 'id="verify-more"' not in html


@pytest.mark.django_db
def test_the_centre_dispatches_again_from_the_incident_page_with_a_reason(cast, client, incident_in):
    incident = incident_in("dispatched")  # to the police
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert "Dispatch again" in html and cast.urban.name in html
    # The inbox row sends to the page (the reason and the departments are there), not an inline form.
    row = client.get("/grids/inbox/?status=dispatched").content.decode()
    assert f"/grids/incidents/{incident.code}/#act" in row and 'data-action="dispatch"' not in row
    url = f"/grids/incidents/{incident.code}/act/"
    refused = client.post(
        url, {"action": "dispatch", "state": "dispatched/community", "department": cast.urban.pk}
    )
    assert refused.status_code == 400 and "reason" in refused.content.decode()
    incident.refresh_from_db()
    assert incident.department == cast.police
    client.post(
        url,
        {
            "action": "dispatch",
            "state": "dispatched/community",
            "department": cast.urban.pk,
            "note": "属城管",
        },
    )
    incident.refresh_from_db()
    assert (incident.status, incident.department) == ("dispatched", cast.urban)


@pytest.mark.django_db
def test_the_department_returns_an_item_from_its_page_with_a_reason(cast, client, incident_in):
    incident = incident_in("dispatched")  # to the police
    client.force_login(cast.department_user)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert 'data-action="return"' in html and "Return to the centre" in html
    url = f"/grids/incidents/{incident.code}/act/"
    refused = client.post(url, {"action": "return", "state": "dispatched/community", "note": ""})
    assert refused.status_code == 400 and "not for your department" in refused.content.decode()
    incident.refresh_from_db()
    assert incident.status == "dispatched"
    client.post(url, {"action": "return", "state": "dispatched/community", "note": "非本部门职责"})
    incident.refresh_from_db()
    assert (incident.status, incident.department) == ("accepted", None)
    # Sent twice (a double tap): the second is the first, answered as done.
    again = client.post(url, {"action": "return", "state": "dispatched/community", "note": "非本部门职责"})
    assert again.status_code in (200, 302) and incident.events.filter(action="return").count() == 1
    # It is no longer the police's: their page of it offers no step; the timeline says who returned it.
    page = client.get(f"/grids/incidents/{incident.code}/")
    assert page.status_code == 200 and 'data-action="' not in page.content.decode()
    assert "非本部门职责" in page.content.decode()


@pytest.mark.django_db
def test_a_stale_dispatch_form_naming_another_department_is_not_answered_done(cast, client, incident_in):
    # A page drawn before the handler's own dispatch (from the inbox), now naming urban management:
    # it was answered "Dispatch: done" while the item stayed with the police.
    incident = incident_in("accepted")
    client.force_login(cast.community_handler)
    url = f"/grids/incidents/{incident.code}/act/"
    drawn = {"action": "dispatch", "state": "accepted/community"}
    client.post(url, {**drawn, "department": cast.police.pk})
    stale = client.post(url, {**drawn, "department": cast.urban.pk, "note": "属城管"})
    assert stale.status_code == 409 and "dispatch it again with the reason" in stale.content.decode()
    incident.refresh_from_db()
    assert incident.department == cast.police and incident.events.filter(action="dispatch").count() == 1
    # The same form sent twice is still the first send, answered as done.
    again = client.post(url, {**drawn, "department": cast.police.pk}, follow=True)
    assert again.status_code == 200 and incident.events.filter(action="dispatch").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "state, user, data, field_id, message",
    [
        (
            "fed_back",
            "worker_a",
            {"action": "verify", "result": "fail"},
            "note-verify",
            "still wrong on site",
        ),
        (
            "accepted",
            "community_handler",
            {"action": "dispatch", "department": ""},
            "dept-{code}",
            "department",
        ),
        ("accepted", "community_handler", {"action": "escalate", "note": ""}, "note-escalate", "reason"),
        (
            "handling",
            "department_user",
            {"action": "feedback", "resolution": ""},
            "resolution-fb",
            "Say what was done",
        ),
    ],
)
def test_a_refused_step_marks_the_field_it_names_and_describes_it_by_the_error(
    cast, client, incident_in, state, user, data, field_id, message
):
    """The error was a list with role="alert" (no longer a list to a screen reader: axe's listitem
    and aria-allowed-role) and the field it named was not marked: a screen reader on the field heard
    nothing wrong. The alert now wraps the list, and the field is aria-invalid, described by it."""
    incident = incident_in(state)
    client.force_login(getattr(cast, user))
    response = client.post(f"/grids/incidents/{incident.code}/act/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert_no_alert_replaces_a_role(html)
    assert attrs_of(html, "act-error")["role"] == "alert"
    assert_marked_invalid(html, field_id.format(code=incident.code), message)
    assert attrs_of(html, field_id.format(code=incident.code))["aria-describedby"] == "act-error"
    assert html.count('aria-invalid="true"') == 1  # no other field of the page


@pytest.mark.django_db
def test_a_refused_step_that_names_no_field_heads_its_form_as_an_alert_around_a_list(
    cast, client, incident_in
):
    """A step taken meanwhile by another handler (no field to mark): the message heads the page's
    step section and takes the focus (tabindex), with the list keeping its role."""
    incident = incident_in("accepted")
    client.force_login(cast.community_handler)
    response = client.post(f"/grids/incidents/{incident.code}/act/", {"action": "accept"})
    assert response.status_code == 409
    html = response.content.decode()
    assert_no_alert_replaces_a_role(html)
    alert = attrs_of(html, "act-error")
    assert (alert["role"], alert["tabindex"]) == ("alert", "-1")
    assert '<ul class="errorlist"><li>Cannot accept' in html
    assert 'aria-invalid="true"' not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, field_id, message",
    [
        ({"action": "dispatch", "department": ""}, "inbox-{code}-department", "department"),
        ({"action": "escalate", "note": ""}, "inbox-{code}-escalate-note", "reason"),
        ({"action": "reject", "note": ""}, "inbox-{code}-reject-note", "reason"),
    ],
)
def test_a_step_refused_in_an_inbox_row_marks_the_rows_field_and_describes_it(
    cast, client, incident_in, data, field_id, message
):
    """The row's message was announced but the field it was about was not marked, and the fields had
    only a placeholder and an aria-label (gone once typed in, and no label to tap). Each has its own
    label now, and the one in error is aria-invalid and described by the row's message."""
    incident = incident_in("reported" if data["action"] == "reject" else "accepted")
    client.force_login(cast.community_handler)
    page = client.get("/grids/inbox/").content.decode()
    field = field_id.format(code=incident.code)
    response = client.post(
        f"/grids/incidents/{incident.code}/act/", {**data, "from": "inbox"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    row = response.content.decode()
    assert "data-swap-focus" in attrs_of(row, f"inbox-{incident.code}-error")
    assert_marked_invalid(row, field, message)
    assert attrs_of(row, field)["aria-describedby"] == f"inbox-{incident.code}-error"
    assert row.count('aria-invalid="true"') == 1 and "{#" not in row
    for html in (page, row):  # a label of its own, not a placeholder standing in for one
        assert f'<label for="{field}"' in html and "aria-label" not in attrs_of(html, field)


@pytest.mark.django_db
def test_a_step_refused_on_the_incident_page_answers_with_the_status_the_api_gives(cast, client, incident_in):
    # The page answered every refusal with 400, a step from the wrong state and one the user's role
    # may not take included, where the API (and the dispute and petition pages) say 409 and 403.
    incident = incident_in("reported")
    url = f"/grids/incidents/{incident.code}/act/"
    client.force_login(cast.community_handler)
    response = client.post(url, {"action": "close"})
    assert response.status_code == 409
    assert "Cannot close" in response.content.decode() and "reported" in response.content.decode()
    api = api_client(cast.community_handler).post(
        f"/api/v1/incidents/{incident.code}/transition/", {"action": "close"}, format="json"
    )
    assert api.status_code == 409
    client.force_login(cast.worker_a)  # a grid worker does not accept: command's and supervision's desk
    assert client.post(url, {"action": "accept"}).status_code == 403
    incident.refresh_from_db()
    assert incident.status == "reported" and incident.events.count() == 1


@pytest.mark.django_db
def test_the_two_reasons_of_a_reported_incident_say_which_step_they_are_for(cast, client, report, settings):
    """Rejecting and escalating each ask for a reason, one above the other: both fields were labelled
    理由, so a screen reader (and a hurried eye) could not tell which button a reason went with."""
    settings.LANGUAGE_CODE = "zh-hans"
    incident = report()
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert re.search(r'<label for="note-reject">驳回理由</label>', html)
    assert re.search(r'<label for="note-escalate">升级上报理由</label>', html)


@pytest.mark.django_db
def test_a_step_with_faulty_fields_from_a_user_whose_role_may_not_take_it_is_refused_as_forbidden(
    cast, client, incident_in
):
    """The incident page and the inbox row checked the form first: a grid worker was shown what to fix
    in a dispatch (400), as if the fixed step would be taken; it is the 403 a complete one gets. The
    inbox row answers 200 with the refusal in the row, as for any refused step."""
    incident = incident_in("accepted")
    url = f"/grids/incidents/{incident.code}/act/"
    data = {"action": "dispatch", "department": "abc"}
    client.force_login(cast.worker_a)
    response = client.post(url, data)
    assert response.status_code == 403 and "Enter a whole number" not in response.content.decode()
    row = client.post(url, {**data, "from": "inbox"}, HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and "Enter a whole number" not in row.content.decode()
    assert "may take no such step" in row.content.decode()
    client.force_login(cast.community_handler)
    assert client.post(url, data).status_code == 400
    incident.refresh_from_db()
    assert incident.status == "accepted"


@pytest.mark.django_db
def test_the_status_badges_of_the_inbox_read_as_labels_in_english(cast, client, incident_in, settings):
    """The badges read 'closed', 'reported' in English beside capitalised options and cells; the
    label starts with a capital, the CSS class keeps the raw value, Chinese is unchanged."""
    closed, reported = incident_in("closed"), incident_in("reported")
    client.force_login(cast.community_handler)
    html = client.get("/grids/inbox/", {"open": ""}).content.decode()
    assert f'id="row-{closed.code}"' in html and f'id="row-{reported.code}"' in html
    assert '<span class="status status-closed">Closed</span>' in html
    assert '<span class="status status-reported">Reported</span>' in html
    settings.LANGUAGE_CODE = "zh-hans"
    html = client.get("/grids/inbox/", {"open": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<span class="status status-closed">已结案</span>' in html


@pytest.mark.django_db
def test_a_grid_worker_s_home_lists_the_checks_waiting_in_their_grid_with_constant_queries(
    cast, client, incident_in, django_assert_max_num_queries
):
    """The on-site check is the grid worker's step, with its deadline: the home page listed only
    what the worker had reported ("My open incidents") and said "Nothing waiting." while an item a
    centre reported in the grid waited for the worker's check. It lists those checks first now,
    counted, as "My grid" does, and never one of another grid."""
    client.force_login(cast.worker_a)
    with django_assert_max_num_queries(30) as few:
        html = client.get("/").content.decode()
    assert "Nothing waiting." in html and "To verify on site" not in html
    first = incident_in("fed_back", actor=cast.community_handler)  # reported by the centre, in grid A
    incident_in("fed_back", actor=cast.community_handler)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/").content.decode()
    assert "Nothing waiting." not in html
    assert 'href="/grids/my/#to-verify">To verify on site <span class="status">2</span></a>' in html
    assert f'href="/grids/incidents/{first.code}/"' in html
    client.force_login(cast.worker_b)  # grid B: not theirs to check, nor to see
    html = client.get("/").content.decode()
    assert "To verify on site" not in html and first.code not in html


@pytest.mark.django_db
def test_a_departments_home_counts_what_is_with_it_not_what_waits_for_the_grids_check(
    cast, client, incident_in, django_assert_max_num_queries
):
    """A police liaison's home counted as open and overdue the items it had fed back, waiting for the
    grid worker's check (or a centre's close): "Overdue 1" for a step that is the grid's, which the
    department can take no step on (docs/incidents.md "Who answers for a step"), and an "Open" count
    the departments' record (open_now) did not give. It counts what is with the department now."""
    ours = incident_in("handling")
    fed_back = incident_in("fed_back")  # the police fed it back; the grid's check is late
    Incident.objects.filter(pk=fed_back.pk).update(due_at=timezone.now() - dt.timedelta(hours=3))
    client.force_login(cast.department_user)
    client.get("/")
    with django_assert_max_num_queries(40):
        home = client.get("/").content.decode()
    pk = cast.police.pk
    in_hand = f"/grids/inbox/?department={pk}&amp;status=dispatched&amp;status=handling"
    assert f'href="{in_hand}">In hand <span class="status">1</span></a>' in home
    assert f'href="{in_hand}&amp;overdue=true">Overdue <span class="status">0</span></a>' in home
    assert ours.code in home and fed_back.code not in home
    # The link lists what the count counted.
    html = client.get(in_hand.replace("&amp;", "&")).content.decode()
    assert f'id="row-{ours.code}"' in html and f'id="row-{fed_back.code}"' not in html
    # A centre's handler counts every open item of the area, as before.
    client.force_login(cast.district_officer)
    home = client.get("/").content.decode()
    assert 'href="/grids/inbox/?overdue=true">Overdue <span class="status">1</span></a>' in home


@pytest.mark.django_db
def test_the_confirmation_leads_each_reporter_back_to_their_own_list(cast, client, report):
    """A centre handler who reported an item (a call to the centre, say) was offered "My grid", whose
    page says "You are not a grid worker of any grid": the handler's list is the inbox. And the page
    is the reporter's: another user of the area who opens its address is sent to the incident's page,
    not told "Report received" for a report they did not make."""
    by_worker = report()
    by_centre = report(actor=cast.community_handler)
    client.force_login(cast.worker_a)
    html = client.get(f"/grids/report/{by_worker.code}/done/").content.decode()
    assert 'href="/grids/my/"' in html and "Report received" in html
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/report/{by_centre.code}/done/").content.decode()
    assert 'class="button" href="/grids/inbox/"' in html and 'href="/grids/my/"' not in html
    response = client.get(f"/grids/report/{by_worker.code}/done/")
    assert response.status_code == 302 and response.url == f"/grids/incidents/{by_worker.code}/"


@pytest.mark.django_db
def test_the_report_drafts_note_is_hidden_without_javascript_and_the_confirmation_names_the_saved_draft(
    cast, client, categories
):
    """The report form keeps its draft in the tab (grids/report.js): the note that one came back is
    drawn hidden (a page without JavaScript has no draft), and the confirmation names the report's
    submission key, so the draft of exactly that report is cleared there (a plain POST too)."""
    client.force_login(cast.worker_a)
    html = client.get("/grids/report/").content.decode()
    note = re.search(r'<div id="draft-note"[^>]*>', html)
    assert note and " hidden" in note.group(0)
    assert f'data-draft-key="grids-report-draft-{cast.worker_a.pk}"' in html
    key = "4f9c1d2e-8a6b-4c3d-9e0f-1a2b3c4d5e6f"
    response = client.post(
        "/grids/report/",
        {"category": "sanitation", "description": "路灯坏了", "kind": "promised", "lat": IN_GRID_A[0],
         "lng": IN_GRID_A[1], "submission": key},
        follow=True,
    )  # fmt: skip
    done = response.content.decode()
    assert Incident.objects.get().code in done
    assert f'data-draft-saved="grids-report-draft-{cast.worker_a.pk}"' in done
    assert f'data-draft-submission="{key}"' in done
    assert "grids/report.js" in done


@pytest.mark.django_db
def test_the_on_site_check_says_its_note_is_what_is_still_wrong(cast, client, incident_in, settings):
    """The check's note was labelled "Note", as if optional: a worker sending it back found out only
    from the refusal that a failed check needs what is still wrong on site."""
    settings.LANGUAGE_CODE = "zh-hans"
    incident = incident_in("fed_back")
    client.force_login(cast.worker_a)
    form = step_form(client.get(f"/grids/incidents/{incident.code}/").content.decode(), "verify")
    label = form[form.index('for="note-verify"') :]
    assert label[label.index(">") + 1 : label.index("</label>")] == "备注（未通过时必填：现场仍存在的问题）"


@pytest.mark.django_db
def test_the_inbox_filters_fold_under_a_summary_that_names_the_filters_in_force(cast, client, report):
    """On a 390 px phone the eleven filters ran about 400 px before the first row. They fold: closed,
    the summary says which are set, and a refused filter opens the fold to show its field."""
    report()
    client.force_login(cast.street_handler)
    assert_filters_fold(
        client,
        "/grids/inbox/",
        ("", 200, "Filters: Completion: Open"),  # the inbox's default: open items
        ("category=fire_hazard&overdue=true&open=&sort=", 200, "Filters: Category: Fire hazard, Overdue"),
        ("open=&sort=newest", 200, "Filters: none"),  # an order hides no row: not a filter
        ("reported_to=9999-12-31", 400, "Filters: Reported to: 9999-12-31"),
    )


@pytest.mark.django_db
def test_the_inbox_form_shows_the_area_its_summary_names(cast, client, report):
    """The summary named "Area" (a link from a map or a report carries it) while the form had no such
    field: nothing showed what it was, nor cleared it. The form has the lists' area filter."""
    area = report().grid.parent
    client.force_login(cast.street_handler)
    html = client.get(f"/grids/inbox/?area={area.code}").content.decode()
    form = html.split('id="inbox-filters"', 1)[1].split("</form>", 1)[0]
    assert f'<input name="area" value="{area.code}"' in form
    assert f'<option value="{area.code}">' in form  # offered by name
    summary = html.split('<span class="filters-active">', 1)[1].split("</span>", 1)[0]
    assert summary == f"Area: {area.name}"


@pytest.mark.django_db
def test_the_inbox_summary_names_the_values_in_force_without_a_query_per_row(cast, client, report):
    """The summary read "Category" where "Category: Fire hazard" says what the list is: the values
    come from the choices the form lists already, so the page takes as many queries for 3 rows as
    for 1."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.street_handler)
    url = "/grids/inbox/?status=reported,accepted&open=false&level=community&reported_from=2026-01-01"
    summary = "Filters: Status: Reported or Accepted, Level: Community, Reported from: 2026-01-01"
    counts = []
    for _ in range(2):
        report()
        client.get(url)  # warm-up: the session, the calendar
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        counts.append(len(queries))
        html = response.content.decode()
        text = html.split('<summary class="filters-summary">', 1)[1].split("</summary>", 1)[0]
        assert " ".join(re.sub(r"<[^>]+>", " ", text).split()) == summary
    report()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert len(queries) == counts[-1], counts


@pytest.mark.django_db
def test_a_step_s_note_is_a_textarea_that_keeps_what_was_typed(cast, client, incident_in):
    """The on-site check's note (what is still wrong) was a one-line input: a few sentences typed on a
    phone scrolled out of sight. It is a textarea, as the other notes (a petition's step) are, and a
    refused check gives back what was typed, line breaks too."""
    incident = incident_in("fed_back")
    client.force_login(cast.worker_a)
    form = step_form(client.get(f"/grids/incidents/{incident.code}/").content.decode(), "verify")
    assert '<textarea name="note" id="note-verify" rows="3"' in form and 'type="text" name="note"' not in form
    response = client.post(
        f"/grids/incidents/{incident.code}/act/", {"action": "verify", "result": "", "note": "东侧\n还有杂物"}
    )
    assert response.status_code == 400
    form = step_form(response.content.decode(), "verify")
    assert ">东侧\n还有杂物</textarea>" in form


@pytest.mark.django_db
def test_the_grid_worker_s_home_button_says_what_its_number_counts(cast, client, report, incident_in):
    """The home page's "My grid 2" counted the worker's own open reports, not the grid's items, nor
    the checks waiting in it: the button says so, and leads to that list on the grid page."""
    report()
    report()
    incident_in("fed_back", actor=cast.community_handler)  # a check in the grid, not the worker's report
    client.force_login(cast.worker_a)
    html = client.get("/").content.decode()
    assert 'href="/grids/my/#my-open">My open reports <span class="status">2</span></a>' in html
    assert 'href="/grids/my/#to-verify">To verify on site <span class="status">1</span></a>' in html
    page = client.get("/grids/my/").content.decode()
    assert '<section class="card" id="my-open">' in page


@pytest.mark.django_db
def test_the_inbox_summary_names_the_grid_department_and_area_in_force(cast, client, report):
    """The summary read "Grid, Department" where "Grid: 春晖第1网格" says what the list is. The names
    come with each filter's own check of its value (no query of their own), and a grid or department
    outside the user's area is refused (a 400) and never named. One query more names the grid and
    the area so that a namesake of the user's scope is told apart (the rows' grids are named by the
    same query, here none: nothing is closed)."""
    report()
    client.force_login(cast.street_handler)
    assert_records_named_safely(
        client,
        "/grids/inbox/",
        (
            f"grid={cast.grid_a.code}&department={cast.police.pk}&area={cast.community_a1a.code}",
            "Filters: Grid: 春晖第1网格, Department: 公安分局, Area: 春晖社区",
        ),
        (
            f"grid={cast.grid_d.code}&department={cast.police_b.pk}&area={cast.community_b1a.code}",
            "Filters: Grid, Department, Area",
            (cast.grid_d.name, cast.community_b1a.name),
        ),
        lookups=4,
    )
    assert_filters_fold(
        client,
        "/grids/inbox/",
        ("open=false&overdue=false", 200, "Filters: Completion: Finished, Overdue: No"),
    )


@pytest.mark.django_db
def test_the_inbox_form_keeps_every_filter_in_force_without_a_link_of_its_own(cast, client, report):
    """The case list and the registry keep the filters their forms have no field for (hidden, each
    with a link that clears it). The inbox's form has a field for every filter its summary names
    (the department's select shows the one in force, the area's input any code): sending it with
    another filter changed keeps them all, and it needs no such link."""
    incident = report()
    client.force_login(cast.street_handler)
    query = (
        f"status=reported&open=true&category=sanitation&grid={incident.grid.code}&level=street"
        f"&kind=promised&department={cast.police.pk}&overdue=true&mine=true&reported_from=2026-01-01"
        f"&reported_to=2026-12-31&area={incident.grid.parent.code}&sort=-reported_at&page=1"
    )
    form = assert_filters_kept(client, "/grids/inbox/", query, ())
    assert "linked-filters" not in form


@pytest.mark.django_db
def test_a_text_over_the_limit_is_refused_in_plain_words(cast, client, settings, incident_in):
    """Django's own message read "确保该变量包含不超过 4000 字符" ("this variable") on a Chinese step form."""
    settings.LANGUAGE_CODE = "zh-hans"
    incident = incident_in("reported")
    client.force_login(cast.community_handler)
    long = "长" * 4001
    response = client.post(f"/grids/incidents/{incident.code}/act/", {"action": "escalate", "note": long})
    html = step_form(response.content.decode(), "escalate")
    assert response.status_code == 400
    assert "最多 4000 个字，现有 4001 个字。" in html and "该变量" not in html
    row = client.post(
        f"/grids/incidents/{incident.code}/act/", {"action": "reject", "note": long}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "最多 4000 个字，现有 4001 个字。" in row and "该变量" not in row
    incident.refresh_from_db()
    assert incident.status == "reported" and incident.events.count() == 1
    client.force_login(cast.worker_a)
    data = {"category": "sanitation", "description": long, "address": "路" * 201}
    html = client.post("/grids/report/", data).content.decode()
    assert "最多 4000 个字，现有 4001 个字。" in html and "最多 200 个字，现有 201 个字。" in html
    assert "该变量" not in html


@pytest.mark.django_db
def test_an_inbox_row_names_the_level_capitalised_as_the_incident_page_does(cast, client, incident_in):
    """An English row's grid cell began "community · 城管中队" under the grid, its page "Community"."""
    incident = incident_in("reported")
    client.force_login(cast.community_handler)
    html = client.get("/grids/inbox/").content.decode()
    row = html[html.index(f'id="row-{incident.code}"') :].split("</tr>")[0]
    assert '<span class="muted">Community' in row


@pytest.mark.django_db
def test_my_reports_summary_says_who_reported_them(cast, client, settings, report):
    """ "My grid" links to ``?mine=true&open=false``: its summary read "仅未办结：已办结、上报人", the
    filter named with no value. It says "上报人：我", as the form's select does; and the first filter
    no longer contradicts itself ("only open: finished"): it is the completion, open or finished."""
    report()
    client.force_login(cast.worker_a)
    summaries = [("en", "Completion: Finished, Reported by: Me"), ("zh-hans", "办结情况：已办结、上报人：我")]
    for language, said in summaries:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        html = client.get("/grids/inbox/?mine=true&open=false").content.decode()
        summary = html.split('<span class="filters-active">', 1)[1].split("</span>", 1)[0]
        assert summary == said, (language, summary)


@pytest.mark.django_db
def test_an_accepted_items_page_offers_dispatch_before_escalating(cast, client, incident_in):
    """The step an accepted item waits for is its dispatch: on a phone the escalation's form came
    first, a screen of "Reason for escalating" above the department to send it to. Escalating, the
    exception, comes last, as it does for a reported item below accepting and rejecting."""
    incident = incident_in("accepted")
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert html.index('data-action-form="dispatch"') < html.index('data-action-form="escalate"')
    reported = incident_in("reported")
    html = client.get(f"/grids/incidents/{reported.code}/").content.decode()
    forms = re.findall(r'data-action-form="(\w+)"', html)
    assert forms == ["accept", "reject", "escalate"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "user", "data", "input_id"),
    [
        ("handling", "department_user", {"action": "feedback", "resolution": ""}, "photos-fb"),
        ("fed_back", "worker_a", {"action": "verify", "result": ""}, "photos-verify"),
    ],
)
def test_a_step_refused_for_another_field_says_its_photos_must_be_chosen_again(
    cast, client, incident_in, state, user, data, input_id
):
    """A browser cannot put chosen files back into a form: refused for its missing text, the feedback
    came back with the text marked and the photo field empty, saying nothing, and the worker sent it
    again without the photos. The photo field now says so; nothing is saved."""
    incident = incident_in(state)
    client.force_login(getattr(cast, user))
    photo = SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = client.post(f"/grids/incidents/{incident.code}/act/", {**data, "photos": [photo]})
    assert response.status_code == 400
    form = step_form(response.content.decode(), data["action"])
    note = '<p class="errorlist grids-photos-dropped" id="' + input_id + '-dropped">'
    assert form.index(f'id="{input_id}"') < form.index(note)
    assert "The photos you chose were not saved with this step: choose them again." in form
    assert f'aria-describedby="{input_id}-dropped"' in form
    incident.refresh_from_db()
    assert incident.status == state and not incident.photos.exclude(stage="report").exists()
    # Refused without photos, or for the photos themselves (named at the field), it says nothing more.
    response = client.post(f"/grids/incidents/{incident.code}/act/", data)
    assert "-dropped" not in step_form(response.content.decode(), data["action"])


@pytest.mark.django_db
def test_a_fed_back_items_page_tells_the_centre_who_checks_it_next(cast, client, incident_in):
    """Fed back, an item waits for its grid worker's check on site: the centre's handler found a page
    with no "Next step" at all and nothing saying whose turn it was. It now says the grid worker
    checks it; the grid worker has the check's form and no such note, a department's people neither."""
    incident = incident_in("fed_back")
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert 'id="duty-note"' in html and "checks this incident on site" in html
    assert 'data-action-form="verify"' not in html
    client.force_login(cast.worker_a)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert 'data-action-form="verify"' in html and 'id="duty-note"' not in html
    client.force_login(cast.department_user)
    assert 'id="duty-note"' not in client.get(f"/grids/incidents/{incident.code}/").content.decode()


@pytest.mark.django_db
def test_an_accepted_items_inbox_row_offers_dispatch_before_escalating(cast, client, incident_in):
    """The inbox row follows the page: the dispatch the item waits for, then the small escalation."""
    incident = incident_in("accepted")
    client.force_login(cast.community_handler)
    html = client.get("/grids/inbox/").content.decode()
    row = html.split(f'id="row-{incident.code}"', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'data-action="(\w+)"', row) == ["dispatch", "escalate"]


@pytest.mark.django_db
def test_my_grid_lists_rejected_reports_apart_from_the_finished_ones(cast, client, settings, report):
    """A rejected report was listed under "最近办结" (recently finished), which reads as resolved: the
    centre refused it and nothing was done. The section now says "驳回或办结" and lists the rejected
    apart, under "已驳回", first (the worker acts on them; the finished need nothing more), with no
    query per row."""
    from tests.base import queries_of

    closed, evaluated, rejected = report(), report(), report()
    Incident.objects.filter(pk=closed.pk).update(status=Incident.Status.CLOSED, due_at=None)
    Incident.objects.filter(pk=evaluated.pk).update(status=Incident.Status.EVALUATED, due_at=None)
    Incident.objects.filter(pk=rejected.pk).update(status=Incident.Status.REJECTED, due_at=None)
    client.force_login(cast.worker_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get("/grids/my/").content.decode()
    ended = html[html.index('id="my-ended"') :].split("</section>")[0]
    assert "<h2>最近驳回或办结</h2>" in ended and "最近办结</h2>" not in html
    # The rejected come first, the finished below them.
    refused, finished = ended.split('<h3 class="grids-subhead">已办结（2）</h3>')
    assert '<h3 class="grids-subhead">已驳回（1）</h3>' in refused
    assert closed.code in finished and evaluated.code in finished and rejected.code not in finished
    assert rejected.code in refused and closed.code not in refused and evaluated.code not in refused
    assert "我上报的全部已办结或驳回事件" in finished  # the inbox's list holds both
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/grids/my/").content.decode()
    assert "<h2>Recently rejected or finished</h2>" in html
    assert html.index('<h3 class="grids-subhead">Rejected (1)</h3>') < html.index(
        '<h3 class="grids-subhead">Finished (2)</h3>'
    )
    few = queries_of(client, "/grids/my/")
    more = [report() for _i in range(4)]
    Incident.objects.filter(pk__in=[i.pk for i in more[:2]]).update(
        status=Incident.Status.REJECTED, due_at=None
    )
    Incident.objects.filter(pk__in=[i.pk for i in more[2:]]).update(
        status=Incident.Status.CLOSED, due_at=None
    )
    assert queries_of(client, "/grids/my/") == few
    html = client.get("/grids/my/").content.decode()
    assert '<h3 class="grids-subhead">Rejected (3)</h3>' in html and "Finished (4)" in html
    # Only rejected ones: no empty "Finished" heading.
    Incident.objects.exclude(status=Incident.Status.REJECTED).delete()
    html = client.get("/grids/my/").content.decode()
    assert "Rejected (3)" in html and "Finished (" not in html
