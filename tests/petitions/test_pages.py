"""Petition pages: registry, intake (with the repeat warning), petition page actions, reveal, inbox."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db.models import F
from django.utils import timezone

from governance.models import PersonalDataAccess, Role
from governance.periods import end_of_local_day
from petitions.forms import INTAKE_ROWS
from petitions.models import Petition
from tests.base import api_client, assert_marked_invalid, attrs_of, filter_form_as_shown, make_user
from tests.petitions.conftest import ID_1, ID_2, petitioners, rest_days_at_reply_end

pytestmark = pytest.mark.django_db


def intake_data(cast, **over):
    data = {
        "channel": "visit",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "persons_count": "2",
        "p0_name": "王建国",
        "p0_id_number": ID_1,
        "p0_phone": "13812345678",
        "p0_address": "甲区春晖路12号",
        "p1_name": "刘秀英",
        "p1_id_number": ID_2,
        "category": "urban",
        "area": cast.community_a1a.code,
        "handling_type": "claim",
        "content": "小区旁工地夜间施工噪音扰民。",
        "complained_unit": "",
        "repeat_of": "",
    }
    data.update(over)
    return data


def test_the_intake_page_registers_a_visit_with_two_petitioners(client, pet):
    client.force_login(pet.cast.petition_officer)
    page = client.get("/petitions/new/")
    assert page.status_code == 200
    html = page.content.decode()
    # Keyboard order: channel, receipt time, persons, then the first petitioner's name (autofocus).
    assert html.index('name="channel"') < html.index('name="received_at"') < html.index('name="p0_name"')
    assert html.index('name="p0_name"') < html.index('name="category"')
    resp = client.post("/petitions/new/", intake_data(pet.cast))
    petition = Petition.objects.get()
    assert resp.status_code == 302 and resp.url == f"/petitions/{petition.code}/"
    assert petition.petitioners.count() == 2 and petition.persons_count == 2


def test_bad_intake_input_is_400_with_the_field_named_and_nothing_saved(client, pet):
    client.force_login(pet.cast.petition_officer)
    resp = client.post("/petitions/new/", intake_data(pet.cast, p1_id_number="123", content=""))
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "An ID number has 17 digits" in html
    assert not Petition.objects.exists()


def test_the_intake_form_starts_without_a_category_or_handling_type_and_requires_both(client, pet):
    # The first category and "claim" were preselected: a petition could be registered under a
    # category and type the officer never looked at.
    client.force_login(pet.cast.petition_officer)
    html = client.get("/petitions/new/").content.decode()
    for name, prompt in (
        ("category", "Choose a category"),
        ("handling_type", "Choose the handling type"),
        ("area", "Choose the area concerned"),  # not Django's "---------"
    ):
        select = re.search(rf'<select name="{name}".*?</select>', html, re.S)[0]
        assert f'<option value="" selected>{prompt}</option>' in select
        assert select.count("selected") == 1
        assert re.search(r"<select[^>]*required", select)
    unit = re.search(r'<select name="complained_unit".*?</select>', html, re.S)[0]
    assert '<option value="" selected>No unit complained about</option>' in unit
    resp = client.post("/petitions/new/", intake_data(pet.cast, category="", handling_type="", area=""))
    assert resp.status_code == 400
    form = resp.context["form"]
    assert form.errors["category"] == ["Choose a category."]
    assert form.errors["handling_type"] == ["Choose the handling type."]
    assert form.errors["area"] == ["Choose the area concerned."]
    html = resp.content.decode()
    assert 'class="error form-error-summary"' in html
    for name in ("category", "handling_type", "area"):  # each error at its select, which says so
        assert f'aria-invalid="true" aria-describedby="id_{name}_error" id="id_{name}"' in html
    assert 'name="p0_name" value="王建国"' in html  # what was typed comes back
    assert not Petition.objects.exists()
    resp = client.post(
        "/petitions/new/", {k: v for k, v in intake_data(pet.cast).items() if k != "handling_type"}
    )
    assert resp.status_code == 400 and list(resp.context["form"].errors) == ["handling_type"]
    assert not Petition.objects.exists()


def test_a_refused_intake_says_so_at_the_top_of_the_form(client, pet):
    """The first field in error may be screens below the top of the re-rendered form."""
    client.force_login(pet.cast.petition_officer)
    assert "form-error-summary" not in client.get("/petitions/new/").content.decode()
    html = client.post("/petitions/new/", intake_data(pet.cast, area="")).content.decode()
    assert html.index('class="error form-error-summary" role="alert"') < html.index('name="channel"')


def _close_for_good(petition, officer):
    petition.transition(action="request_review", actor=officer)
    petition.transition(action="decide_review", actor=officer, decision="upheld", note="维持原意见")
    petition.transition(action="request_review", actor=officer)
    petition.transition(action="decide_re_review", actor=officer, decision="upheld", note="维持")


def test_a_repeat_of_a_petition_closed_for_good_is_flagged_and_offers_no_accept(client, pet):
    original = pet.replied(area=pet.cast.community_a1a)
    _close_for_good(original, pet.cast.petition_officer)
    client.force_login(pet.cast.petition_officer)
    warning = client.post("/petitions/new/repeats/", intake_data(pet.cast), HTTP_HX_REQUEST="true")
    assert original.code in warning.content.decode()
    assert "closed for good after its re-review" in warning.content.decode()
    resp = client.post("/petitions/new/", intake_data(pet.cast, repeat_of=original.code))
    repeat = Petition.objects.get(repeat_of=original)
    assert resp.status_code == 302
    page = client.get(resp.url).content.decode()
    # The banner says "decline it": before routing, the office has the button to.
    assert 'id="repeat-final"' in page and 'id="action-decline"' in page
    assert "decline it, or redirect it to another legal route." in page
    repeat.transition(action="assign", actor=pet.cast.petition_officer, department=pet.cast.police.pk)
    client.force_login(pet.cast.department_user)
    html = client.get(f"/petitions/{repeat.code}/").content.decode()
    assert 'id="repeat-final"' in html and original.code in html
    # Once routed, only the department declines it: redirecting was the office's, before routing.
    assert "It cannot be accepted; the department declines it." in html
    assert "redirect it to another legal route" not in html
    assert 'id="action-accept"' not in html and 'id="action-decline"' in html
    resp = client.post(f"/petitions/{repeat.code}/act/", {"action": "accept"})
    assert resp.status_code == 409 and "not accepted again" in resp.content.decode()
    repeat.refresh_from_db()
    assert repeat.status == "routed"


def test_the_timeline_and_the_message_name_the_re_review_request(client, pet):
    # One action asks for both reviews; the timeline read "request a review" twice.
    officer = pet.cast.petition_officer
    petition = pet.reviewed()
    client.force_login(officer)
    resp = client.post(f"/petitions/{petition.code}/act/", {"action": "request_review"}, follow=True)
    html = resp.content.decode()
    assert f"Request a re-review: done ({petition.code})." in html
    timeline = html[html.index('data-action="request_review"') :]
    first, second = timeline.split('data-action="request_review"')[1:3]
    assert "Request a review</strong>" in first and "Request a re-review</strong>" in second


def test_the_timeline_names_each_step_with_a_capital_as_the_other_timelines_do(client, pet):
    # The incident and dispute timelines read "Accept · ..."; this one read "accept · ...".
    petition = pet.accepted()
    client.force_login(pet.cast.petition_officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    for action, label in [
        ("register", "Register"),
        ("assign", "Route to a department"),
        ("accept", "Accept"),
    ]:
        assert f'data-action="{action}"><strong>{label}</strong>' in html


def test_the_timeline_shows_a_status_change_only_for_a_step_that_made_one(client, pet):
    # A step that leaves the status as it was (an evaluation) read "Replied → Replied", as if it had
    # moved; it names the status once, as the incident and dispute timelines do.
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="evaluate", actor=officer, evaluation="satisfied")
    client.force_login(officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    evaluate = html[html.index('data-action="evaluate"') :].split("</li>")[0]
    reply = html[html.index('data-action="reply"') :].split("</li>")[0]
    assert "→" not in evaluate and '<span class="muted">replied</span>' in evaluate.lower(), evaluate
    assert re.search(r"accepted[^<]* → replied", reply, re.I), reply


def _timeline_items(html: str, action: str) -> list[str]:
    return [part.split("</li>")[0] for part in html.split(f'data-action="{action}"')[1:]]


def test_the_timeline_says_what_each_step_recorded(client, pet):
    """The page's "Evaluation" and "Review" show only the last of each: once the review's answer was
    evaluated, the reply's evaluation (and what the extension, the reply and each decision had
    recorded) was nowhere on the page, though the satisfaction rate counts both evaluations."""
    officer, department_user = pet.cast.petition_officer, pet.cast.department_user
    petition = pet.accepted()
    petition.transition(
        action="extend", actor=department_user, days=20, approver=pet.approver, notified=True, note="需调查"
    )
    petition.transition(action="reply", actor=department_user, opinion="not_support", text="不予支持。")
    petition.transition(action="evaluate", actor=officer, evaluation="basically")
    petition.transition(action="request_review", actor=officer)
    petition.transition(action="decide_review", actor=officer, decision="changed", note="改为支持")
    petition.transition(action="evaluate", actor=officer, evaluation="dissatisfied")
    client.force_login(officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    assert "by 20 days, the petitioner notified" in _timeline_items(html, "extend")[0]
    assert "not supported" in _timeline_items(html, "reply")[0]
    first, second = _timeline_items(html, "evaluate")
    assert "basically satisfied" in first and "dissatisfied" in second
    assert "original opinion changed" in _timeline_items(html, "decide_review")[0]
    events = api_client(officer).get(f"/api/v1/petitions/{petition.code}/").json()["events"]
    recorded = [
        (e["action"], e["result"], e["extended_days"]) for e in events if e["result"] or e["extended_days"]
    ]
    assert recorded == [
        ("extend", None, 20),
        ("reply", "not_support", None),
        ("evaluate", "basically", None),
        ("decide_review", "changed", None),
        ("evaluate", "dissatisfied", None),
    ]


def test_the_timeline_names_the_legal_route_of_a_redirect(client, pet):
    officer = pet.cast.petition_officer
    petition = pet.register(handling_type="claim")
    petition.transition(action="redirect", actor=officer, route="litigation", note="属民事纠纷")
    client.force_login(officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    assert "litigation" in _timeline_items(html, "redirect")[0]


def test_the_phone_channel_and_the_reply_step_are_not_named_like_the_fields_of_the_same_words():
    # In Chinese the channel read 联系电话 (the petitioner's phone number) and the step 答复内容 (the
    # reply's text) in the registry, the filters, the buttons and the timeline: one msgid each.
    from django.utils import translation

    from petitions.models import ACTION_LABELS, Petitioner

    with translation.override("zh-hans"):
        number, text = (
            str(Petitioner._meta.get_field("phone").verbose_name),
            str(Petition._meta.get_field("reply_text").verbose_name),
        )
        assert (number, text) == ("联系电话", "答复内容")
        assert str(Petition.Channel.PHONE.label) != number
        assert str(ACTION_LABELS["reply"]) != text


def test_the_deadline_table_says_which_date_is_due_and_which_is_done(client, pet):
    # Two dates a row, the second unexplained: "Written reply 2027-02-10 | 2026-12-02".
    petition = pet.accepted()
    client.force_login(pet.cast.petition_officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    table = html[html.index('class="pet-table pet-deadlines"') :]
    head = table[: table.index("<tbody>")]
    assert ">Due</th>" in head and ">Done on</th>" in head


def _deadline_row(html: str, key: str) -> str:
    return re.search(rf'<tr data-deadline="{key}">.*?</tr>', html, re.S)[0]


def test_a_step_done_after_its_limit_is_marked_so_in_the_deadline_table(client, pet):
    # A notice of acceptance sent after its 15 days showed its date like one sent in time, while the
    # on-time indicators counted it late.
    petition = pet.routed()
    Petition.objects.filter(pk=petition.pk).update(acknowledge_due_at=timezone.now() - dt.timedelta(days=2))
    petition.refresh_from_db()
    petition.transition(action="accept", actor=pet.cast.department_user, note="书面告知已受理")
    client.force_login(pet.cast.petition_officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    assert "after the limit" in _deadline_row(html, "acknowledge")
    assert "after the limit" not in _deadline_row(html, "route")
    assert "after the limit" not in _deadline_row(html, "reply")  # not done yet: no date, no mark
    # A decline after routing is the written notice it ends (of non-acceptance): its date is shown.
    declined = pet.routed()
    declined.transition(action="decline", actor=pet.cast.department_user, note="不属于本单位职责")
    html = client.get(f"/petitions/{declined.code}/").content.decode()
    row = _deadline_row(html, "acknowledge")
    assert timezone.localdate().strftime("%Y-%m-%d") in row and "after the limit" not in row
    # Nothing runs now: the head had a lone "—" beside the status where the countdown goes.
    assert 'id="countdown"' not in html
    html = client.get(f"/petitions/{petition.code}/").content.decode()  # the reply runs, and is named
    assert 'id="countdown"><span class="muted">Written reply (60 days):</span> <span class="pet-due' in html


def test_the_lists_offer_their_area_filter_by_name_within_the_scope(client, pet):
    # The area filter of the registry (and of the dispute list) was a bare code field: an officer
    # had to know 340102001001 to see one community's petitions.
    c = pet.cast
    client.force_login(c.petition_officer)
    for url in ("/petitions/", "/mediation/cases/"):
        html = client.get(url).content.decode()
        datalist = re.search(r'<datalist id="area-filter-choices">.*?</datalist>', html, re.S)[0]
        assert 'list="area-filter-choices"' in html
        assert (
            f'<option value="{c.community_a1a.code}">{c.street_a1.name} · {c.community_a1a.name}</option>'
            in datalist
        )
        assert c.district_b.code not in datalist and c.grid_a.code not in datalist  # in scope, above grids
    resp = client.get(f"/petitions/?area={c.community_a1a.code}")
    assert resp.status_code == 200


def test_intake_is_for_petition_officers_only(client, pet):
    client.force_login(pet.cast.department_user)
    assert client.get("/petitions/new/").status_code == 403


def test_the_repeat_check_warns_inline_and_the_link_is_kept(client, pet):
    first = pet.register(area=pet.cast.community_a1a)
    client.force_login(pet.cast.petition_officer)
    resp = client.post("/petitions/new/repeats/", intake_data(pet.cast), HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    assert first.code in resp.content.decode() and "Likely repeat" in resp.content.decode()
    other = client.post(
        "/petitions/new/repeats/", intake_data(pet.cast, category="labour"), HTTP_HX_REQUEST="true"
    )
    assert first.code not in other.content.decode()
    resp = client.post("/petitions/new/", intake_data(pet.cast, repeat_of=first.code))
    assert resp.status_code == 302
    assert Petition.objects.get(is_repeat=True).repeat_of == first


def test_a_repeat_registered_on_the_page_is_logged_as_through_the_api(client, pet):
    # The link is taken only when a typed ID number or phone matches the earlier petitioners: the
    # API logged it as the repeat check does, the page (sent without a repeat check) did not.
    from governance.models import PersonalDataAccess

    first = pet.register(area=pet.cast.community_a1a)
    client.force_login(pet.cast.petition_officer)
    resp = client.post("/petitions/new/", intake_data(pet.cast, repeat_of=first.code))
    assert resp.status_code == 302 and Petition.objects.get(is_repeat=True).repeat_of == first
    logged = PersonalDataAccess.objects.get(record=first.code, user=pet.cast.petition_officer)
    assert logged.fields == "id_number,phone" and "repeat check" in logged.reason


def test_the_access_log_gives_the_platforms_reasons_in_the_sites_language(client, pet, settings):
    # The log read one repeat check in Chinese and the next in English, each in the language of
    # the page of the officer who made it.
    from governance.models import PersonalDataAccess

    pet.register(area=pet.cast.community_a1a)
    settings.LANGUAGE_CODE = "zh-hans"  # the site's language; the officer's page is in English
    client.force_login(pet.cast.petition_officer)
    page = client.post(
        "/petitions/new/repeats/", intake_data(pet.cast), HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Likely repeat" in page.content.decode()
    assert PersonalDataAccess.objects.get().reason.startswith("登记时重复信访核查")


def test_the_repeat_check_offers_no_petition_that_arrived_after_the_one_being_registered(client, pet):
    later = pet.register(area=pet.cast.community_a1a, received_at=timezone.now() - dt.timedelta(days=1))
    client.force_login(pet.cast.petition_officer)
    earlier = (timezone.localtime() - dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    resp = client.post(
        "/petitions/new/repeats/", intake_data(pet.cast, received_at=earlier), HTTP_HX_REQUEST="true"
    )
    assert resp.status_code == 200 and later.code not in resp.content.decode()
    # The check runs again when the receipt time changes.
    page = client.get("/petitions/new/").content.decode()
    assert "change from:#id_received_at" in page


@pytest.mark.parametrize(
    "typed",
    [
        {"area": "x\x00"},
        {"category": "x\x00"},
        {"received_at": "9999-12-31T23:59"},
        {"received_at": "0001-01-01T00:00"},
    ],
    ids=["nul-area", "nul-category", "year-9999", "year-1"],
)
def test_the_repeat_check_answers_odd_input_with_no_match_not_a_500(client, pet, typed):
    """A NUL character reached PostgreSQL (which refuses it in a query) and a receipt at
    9999-12-31 23:59 overflowed the minute added to it: both were a 500 while the officer typed. So
    was 0001-01-01 00:00 (a year typed from its first digit), which lies before the first UTC
    instant SQLite's dates hold (on PostgreSQL it silently offered nothing): a time the registration
    refuses as too far back is read, as one to come is, as now."""
    first = pet.register(area=pet.cast.community_a1a)
    client.force_login(pet.cast.petition_officer)
    resp = client.post("/petitions/new/repeats/", intake_data(pet.cast, **typed), HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    # A receipt time to come is read as now: the earlier petition is still offered.
    assert (first.code in resp.content.decode()) == ("received_at" in typed)


def test_the_registry_shows_countdowns_highlights_and_masks(client, pet, django_assert_max_num_queries):
    soon = pet.register()
    Petition.objects.filter(pk=soon.pk).update(due_at=timezone.now() + dt.timedelta(days=2))
    late = pet.register()
    Petition.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    client.force_login(pet.cast.petition_officer)
    # 13: the areas' names that tell a namesake of the user's scope apart take one, whatever the rows.
    with django_assert_max_num_queries(13):
        resp = client.get("/petitions/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "pet-row-soon" in html and "pet-row-overdue" in html
    assert "王**" in html and "王建国" not in html
    for _i in range(10):
        pet.register()
    with django_assert_max_num_queries(13):
        assert client.get("/petitions/").status_code == 200
    assert client.get("/petitions/?channel=pigeon").status_code == 400


def test_the_registry_counts_matters_and_person_times_as_the_indicators_do(client, pet):
    """DOMAIN.md "Repeat petitions": a repeat is not a new matter but counts in person-times. The
    registry said only "3 petitions", so an officer read a repeat (or a group of seven) as one more
    matter, one person, and the figure disagreed with the dashboards' matters and person-times."""
    first = pet.register(persons_count=7, channel="visit", petitioners=petitioners(2))
    pet.register(repeat_of=first.code, persons_count=2)
    pet.register(category="labour")
    client.force_login(pet.cast.petition_officer)
    text = re.sub(r"<[^>]+>", "", client.get("/petitions/").content.decode())
    assert "3 petitions · 2 new matters · 10 person-times" in text
    # The same figures for a filtered list: the repeats only.
    text = re.sub(r"<[^>]+>", "", client.get("/petitions/?repeat=true").content.decode())
    assert "1 petition · 0 new matters · 2 person-times" in text


def test_a_bad_registry_filter_is_named_by_its_label_and_closed_items_come_last(client, pet):
    # The error list printed the parameter ("received_from: ..."), English in a Chinese page.
    client.force_login(pet.cast.petition_officer)
    resp = client.get("/petitions/?received_from=2026-13-01", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = resp.content.decode()
    assert resp.status_code == 400 and 'id="filter-error"' in html and "received_from:" not in html
    assert "接收日期起" in html
    # Soonest deadline first, and items without one (closed) after every running one.
    running = pet.register()
    closed = pet.register()
    Petition.objects.filter(pk=closed.pk).update(due_at=None, status="closed")
    html = client.get("/petitions/").content.decode()
    assert html.index(running.code) < html.index(closed.code)


def test_a_refused_registry_filter_is_named_as_the_form_beside_it_names_it(client, pet):
    """The area box (区域, "code or name") was named 区划代码（含全部下级） in the message, and the
    deadline select (期限) 逾期: the filter's API label, which the page shows nowhere."""
    client.force_login(pet.cast.petition_officer)
    # Not 春晖社区 any more: a name of an area in scope is that area (tests/governance/test_area_names.py).
    html = client.get("/petitions/?area=无此社区", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="filter-error">区域：' in html and "区划代码（含全部下级）" not in html
    html = client.get("/petitions/?overdue=maybe", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="filter-error">期限：' in html
    html = client.get("/petitions/?type=x", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="filter-error">Handling type: ' in html
    # A filter the link set, kept under "From the link" by the name the summary gives it.
    html = client.get("/petitions/?department=abc", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="filter-error">转送交办至：' in html
    html = client.get("/petitions/?due_soon=maybe", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="filter-error">Due within 3 days: ' in html


def test_the_registry_says_an_area_outside_the_scope_is_unknown_like_a_missing_one(client, pet):
    pet.register()
    client.force_login(pet.cast.petition_officer)
    for code in (pet.cast.grid_d.code, "340103001001009"):  # district B's grid (exists), a missing code
        resp = client.get(f"/petitions/?area={code}")
        assert resp.status_code == 400  # was a 500 (the filter's error escaped the page)
        assert f"Unknown area code {code}." in resp.content.decode()
    assert client.get(f"/petitions/?area={pet.cast.grid_a.code}").status_code == 200


def test_a_review_request_is_recorded_with_the_time_it_was_received(client, pet):
    petition = pet.replied()
    client.force_login(pet.cast.petition_officer)
    page = client.get(f"/petitions/{petition.code}/").content.decode()
    assert 'type="datetime-local" name="requested_at"' in page
    Petition.objects.filter(pk=petition.pk).update(replied_at=timezone.now() - dt.timedelta(hours=3))
    received = timezone.localtime() - dt.timedelta(hours=2)
    resp = client.post(
        f"/petitions/{petition.code}/act/",
        {"action": "request_review", "requested_at": received.strftime("%Y-%m-%dT%H:%M")},
    )
    assert resp.status_code == 302
    petition.refresh_from_db()
    assert petition.review_requested_at == received.replace(second=0, microsecond=0)


def test_a_review_request_received_in_time_is_recorded_on_the_page_after_the_window_closed(client, pet):
    # A letter asking for review arrived on the 29th day and reached the officer's desk on the 33rd:
    # the page no longer offered the step (the API did), so the request could not be recorded there.
    petition = pet.replied()
    replied = timezone.now() - dt.timedelta(days=33)
    until = timezone.localtime(timezone.now() - dt.timedelta(days=3)).replace(hour=23, minute=59)
    Petition.objects.filter(pk=petition.pk).update(replied_at=replied, review_request_until=until)
    client.force_login(pet.cast.petition_officer)
    url = f"/petitions/{petition.code}/"
    page = client.get(url).content.decode()
    assert 'name="requested_at"' in page
    # No "now" filled in: the officer gives the day it arrived, at the latest the window's end.
    field = re.search(r'<input type="datetime-local" name="requested_at"[^>]*>', page).group(0)
    assert 'value=""' in field and f'max="{until:%Y-%m-%dT%H:%M}"' in field
    assert f"The 30 days ended on {until:%Y-%m-%d}" in page
    late = timezone.localtime() - dt.timedelta(days=1)
    resp = client.post(f"{url}act/", {"action": "request_review", "requested_at": f"{late:%Y-%m-%dT%H:%M}"})
    assert resp.status_code == 400
    assert "a request received later is not accepted" in resp.content.decode()
    assert 'aria-invalid="true"' in re.search(
        r'<input type="datetime-local" name="requested_at"[^>]*>', resp.content.decode()
    ).group(0)
    assert Petition.objects.get(pk=petition.pk).status == "replied"
    received = until - dt.timedelta(days=1)
    resp = client.post(
        f"{url}act/", {"action": "request_review", "requested_at": f"{received:%Y-%m-%dT%H:%M}"}
    )
    assert resp.status_code == 302
    petition.refresh_from_db()
    assert petition.status == "under_review"
    assert petition.review_requested_at == received.replace(second=0, microsecond=0)


def test_the_review_step_is_offered_fifteen_days_past_the_window_then_no_more(client, pet):
    petition = pet.replied()
    client.force_login(pet.cast.petition_officer)
    url = f"/petitions/{petition.code}/"
    for days, offered in ((14, True), (16, False)):
        Petition.objects.filter(pk=petition.pk).update(
            review_request_until=timezone.now() - dt.timedelta(days=days)
        )
        assert ('name="requested_at"' in client.get(url).content.decode()) is offered


def test_the_extension_form_asks_for_the_notice_to_the_petitioner(client, pet):
    petition = pet.accepted()
    client.force_login(pet.cast.department_user)
    page = client.get(f"/petitions/{petition.code}/").content.decode()
    assert 'type="checkbox" name="notified" value="on" required' in page
    url = f"/petitions/{petition.code}/act/"
    extension = {"action": "extend", "days": "15", "approver": "approver", "note": "需多部门核查"}
    resp = client.post(url, extension)
    assert resp.status_code == 400
    assert "Tell the petitioner of the extension and its reason" in resp.content.decode()
    assert Petition.objects.get(pk=petition.pk).extended_days == 0
    assert client.post(url, {**extension, "notified": "on"}).status_code == 302
    assert Petition.objects.get(pk=petition.pk).extended_days == 15


def test_the_extension_form_refuses_days_that_would_not_move_the_reply_limit(client, pet):
    petition = pet.accepted()
    sixtieth = rest_days_at_reply_end(petition)
    before = petition.reply_due_at
    least = (timezone.localdate(before) - sixtieth).days + 1
    client.force_login(pet.cast.department_user)
    url = f"/petitions/{petition.code}/act/"
    extension = {"action": "extend", "approver": "approver", "note": "需多部门核查", "notified": "on"}
    resp = client.post(url, {**extension, "days": "5"})
    assert resp.status_code == 400
    step = _step(resp.content.decode(), "extend")
    assert f"at least {least} days" in step and 'value="5"' in step
    assert_marked_invalid(step, "days-extend", f"at least {least} days")
    petition.refresh_from_db()
    assert (petition.reply_due_at, petition.extended_days) == (before, 0)
    assert not petition.events.filter(action="extend").exists()
    assert client.post(url, {**extension, "days": str(least)}).status_code == 302
    assert Petition.objects.get(pk=petition.pk).extended_days == least


def test_the_extension_form_reports_every_wrong_field_at_once_and_keeps_the_input(client, pet):
    # Days, reason, approver and notice were refused one at a time: fix one, send, learn the next.
    petition = pet.accepted()
    client.force_login(pet.cast.department_user)
    url = f"/petitions/{petition.code}/act/"
    resp = client.post(url, {"action": "extend", "days": "45", "approver": "nobody_here", "note": ""})
    assert resp.status_code == 400
    html = resp.content.decode()
    for message in (
        "An extension is at most 30 days.",
        "Give the reason for the extension.",
        "The approver must be the head of 公安分局",  # no such account: told as for a non-head
        "Tell the petitioner of the extension and its reason",
    ):
        assert message in html, message
    assert 'value="45"' in html and 'value="nobody_here"' in html
    assert Petition.objects.get(pk=petition.pk).extended_days == 0
    assert not petition.events.filter(action="extend").exists()


def test_an_extension_the_form_cannot_read_still_reports_every_other_field_at_once(client, pet):
    # 1.5 days stopped the step at the form, so the missing reason, approver and notice came one
    # submit later; and the browser's own check (no novalidate) named one empty field at a time.
    from governance.models import OutboxMessage

    petition = pet.accepted()
    client.force_login(pet.cast.department_user)
    page = client.get(f"/petitions/{petition.code}/").content.decode()
    assert 'class="form pet-action-form" novalidate>' in _step(page, "extend")
    outbox = OutboxMessage.objects.count()
    own_name = pet.cast.department_user.username
    resp = client.post(
        f"/petitions/{petition.code}/act/",
        {"action": "extend", "days": "1.5", "approver": own_name, "note": ""},
    )
    assert resp.status_code == 400
    step = _step(resp.content.decode(), "extend")
    for field, message in (
        ("days", "Enter a whole number."),
        ("note", "Give the reason for the extension."),
        ("approver", "Another person approves the extension you ask for."),
        ("notified", "Tell the petitioner of the extension and its reason, then confirm it."),
    ):
        assert 'aria-invalid="true"' in _tag(step, f"{field}-extend"), field
        assert f'<span class="error field-error" id="{field}-extend-error">{message}</span>' in step, field
    assert 'value="1.5"' in _tag(step, "days-extend") and f'value="{own_name}"' in _tag(
        step, "approver-extend"
    )
    assert Petition.objects.get(pk=petition.pk).extended_days == 0
    assert not petition.events.filter(action="extend").exists()
    assert OutboxMessage.objects.count() == outbox  # the step was only asked: nothing written


def test_the_department_sees_the_reply_first_and_is_offered_the_approvers_who_may_approve(client, pet):
    # The page opened the extension form first and asked for an approver's username with no hint of
    # whose; the reply is the step due, and the approvers are those the extension accepts: the heads
    # of the department handling it (信访工作条例 art. 37), not every officer of the area.
    petition = pet.accepted()
    deputy = make_user("deputy_head", Role.HANDLER, pet.cast.district_a, pet.cast.police)
    deputy.memberships.update(is_head=True)
    urban_head = make_user("urban_head", Role.HANDLER, pet.cast.district_a, pet.cast.urban)
    urban_head.memberships.update(is_head=True)
    client.force_login(pet.cast.department_user)
    page = client.get(f"/petitions/{petition.code}/").content.decode()
    assert '<details class="pet-action" id="action-reply" open>' in page
    assert '<details class="pet-action" id="action-extend">' in page
    datalist = page[page.index('<datalist id="approvers-extend">') :].split("</datalist>")[0]
    listed = re.findall(r'<option value="([^"]+)">', datalist)
    assert listed == ["approver", "deputy_head"]
    # The petition office's officer, another department's head or a head who left is refused,
    # naming the field; nothing changes.
    deputy.is_active = False
    deputy.save(update_fields=["is_active"])
    for who in ("petition_officer", "urban_head", "deputy_head"):
        response = client.post(
            f"/petitions/{petition.code}/act/",
            {"action": "extend", "days": "5", "approver": who, "note": "需核查", "notified": "on"},
        )
        assert response.status_code == 400 and "head of 公安分局" in response.content.decode(), who
    petition.refresh_from_db()
    assert petition.extended_days == 0 and petition.extension_approver is None
    petition.transition(
        action="extend",
        actor=pet.cast.department_user,
        days=5,
        approver=listed[0],
        note="需核查",
        notified=True,
    )
    assert petition.extension_approver == pet.approver


def test_the_petition_page_acts_and_refuses_with_the_status_the_api_gives(client, pet):
    petition = pet.register()
    client.force_login(pet.cast.petition_officer)
    page = client.get(f"/petitions/{petition.code}/").content.decode()
    assert 'id="action-assign"' in page and 'id="action-redirect"' in page
    resp = client.post(f"/petitions/{petition.code}/act/", {"action": "assign", "department": ""})
    assert resp.status_code == 400 and "department" in resp.content.decode()
    resp = client.post(f"/petitions/{petition.code}/act/", {"action": "accept"})
    assert resp.status_code == 409
    resp = client.post(
        f"/petitions/{petition.code}/act/", {"action": "assign", "department": pet.cast.police.pk}
    )
    assert resp.status_code == 302
    petition.refresh_from_db()
    assert petition.status == "routed" and petition.department == pet.cast.police
    client.force_login(pet.cast.department_user)
    resp = client.post(f"/petitions/{petition.code}/act/", {"action": "redirect", "route": "arbitration"})
    assert resp.status_code == 409


def test_returning_from_the_page_goes_to_the_registry_with_a_message_not_to_a_404(client, pet):
    petition = pet.routed()
    client.force_login(pet.cast.department_user)
    resp = client.post(f"/petitions/{petition.code}/act/", {"action": "return", "note": "不属本单位职责"})
    assert resp.status_code == 302 and resp.url == "/petitions/"
    page = client.get(resp.url)
    assert page.status_code == 200
    assert f"You no longer have access to {petition.code}." in page.content.decode()
    petition.refresh_from_db()
    assert petition.status == "registered" and petition.department_id is None


def test_the_department_inbox_lists_items_routed_to_it(client, pet):
    routed = pet.routed()
    waiting = pet.register()
    client.force_login(pet.cast.department_user)
    html = client.get("/petitions/inbox/").content.decode()
    assert routed.code in html and waiting.code not in html
    assert client.get(f"/petitions/{waiting.code}/").status_code == 404


def test_the_department_homes_overdue_count_leads_to_the_overdue_items(client, pet):
    on_time, late = pet.routed(), pet.routed()
    Petition.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    client.force_login(pet.cast.department_user)
    assert 'href="/petitions/inbox/?overdue=true"' in client.get("/").content.decode()
    html = client.get("/petitions/inbox/?overdue=true").content.decode()
    assert late.code in html and on_time.code not in html
    everything = client.get("/petitions/inbox/").content.decode()
    assert late.code in everything and on_time.code in everything


def test_the_complained_unit_page_shows_no_identity_and_no_reveal(client, pet):
    petition = pet.register(complained=True)
    client.force_login(pet.urban_user)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    assert "identity protected" in html
    assert "王" not in html and "Reveal" not in html
    person = petition.petitioners.get()
    resp = client.post(f"/petitions/{petition.code}/petitioners/{person.pk}/reveal/", {"reason": "核实"})
    assert resp.status_code == 403
    # Another number is the same 403, not a 404 telling which rows belong to the complaint.
    resp = client.post(f"/petitions/{petition.code}/petitioners/{person.pk + 1}/reveal/", {"reason": "核实"})
    assert resp.status_code == 403
    assert not PersonalDataAccess.objects.exists()


def test_the_complained_unit_gets_403_and_no_masked_row_even_with_an_empty_reason(client, pet):
    # The permission is checked before the reason: an invalid form used to render the masked row
    # (name, ID, phone, address) with a Reveal form to the unit complained about.
    petition = pet.register(complained=True)
    person = petition.petitioners.get()
    client.force_login(pet.urban_user)
    url = f"/petitions/{petition.code}/petitioners/{person.pk}/reveal/"
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        for reason in ("", "核实"):
            resp = client.post(url, {"reason": reason}, **headers)
            assert resp.status_code == 403
            body = resp.content.decode()
            for shown in (person.masked_name, person.masked_id_number, person.masked_phone):
                assert shown not in body
            assert person.masked_address not in body and 'name="reason"' not in body
    assert not PersonalDataAccess.objects.exists()


def test_the_officer_reveals_on_the_page_and_it_is_logged(client, pet):
    petition = pet.register()
    person = petition.petitioners.get()
    client.force_login(pet.cast.petition_officer)
    url = f"/petitions/{petition.code}/petitioners/{person.pk}/reveal/"
    assert client.post(url, {"reason": ""}).status_code == 400
    resp = client.post(url, {"reason": "电话回访"}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and ID_1 in resp.content.decode()
    assert PersonalDataAccess.objects.get().user == pet.cast.petition_officer


def test_a_refused_reveal_is_announced_at_the_field_and_keeps_the_reason(client, pet):
    """A refused reveal said so in a plain span after the button: not announced, not tied to the
    field, and the reason typed was gone."""
    petition = pet.register()
    person = petition.petitioners.get()
    client.force_login(pet.cast.petition_officer)
    url = f"/petitions/{petition.code}/petitioners/{person.pk}/reveal/"
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):  # the page without JavaScript, the swapped row
        for reason in ("   ", " 查"):  # blank; too short once trimmed
            html = client.post(url, {"reason": reason}, **headers).content.decode()
            error = re.search(
                r'<span class="error" role="alert" id="reason-(\d+)-error">([^<]+)</span>', html
            )
            assert error and error[1] == str(person.pk) and "Say why" in error[2], html
            field = re.search(r'<input type="text" name="reason"[^>]*>', html)[0]
            assert f'value="{reason}"' in field and 'aria-invalid="true"' in field
            assert f'aria-describedby="reason-{person.pk}-error"' in field
    assert not PersonalDataAccess.objects.exists()
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    assert 'aria-invalid="true"' not in html


def test_outsiders_get_404_on_every_petition_page(client, pet):
    petition = pet.register()
    person = petition.petitioners.get()
    for user in (pet.cast.outsider, pet.cast.analyst):
        client.force_login(user)
        assert client.get(f"/petitions/{petition.code}/").status_code == 404
        assert client.post(f"/petitions/{petition.code}/act/", {"action": "close"}).status_code == 404
        url = f"/petitions/{petition.code}/petitioners/{person.pk}/reveal/"
        assert client.post(url, {"reason": "x"}).status_code == 404
        assert petition.code not in client.get("/petitions/").content.decode()


def test_the_home_page_shows_the_petition_sections(client, pet):
    pet.routed()
    client.force_login(pet.cast.petition_officer)
    assert "Waiting to be routed" in client.get("/").content.decode()
    client.force_login(pet.cast.department_user)
    page = client.get("/").content.decode()
    assert "Petitions routed to my department" in page
    # The category capitalised as the registry writes it ("· education ·" read oddly in English).
    routed = Petition.objects.get(department__isnull=False)
    assert f" · {routed.get_category_display()[0].upper()}{routed.get_category_display()[1:]} · " in page


def test_the_officers_home_page_counts_the_reviews_the_office_must_decide(client, pet):
    """The office decides reviews and re-reviews within 30 days, yet its home page counted only what
    waits for routing: a review due in four weeks was in no list of the home page."""
    officer = pet.cast.petition_officer
    review = pet.replied()
    review.transition(action="request_review", actor=officer)
    re_review = pet.replied()
    re_review.transition(action="request_review", actor=officer)
    re_review.transition(action="decide_review", actor=officer, decision="upheld", note="维持")
    re_review.transition(action="request_review", actor=officer)
    pet.replied()  # answered, no review asked: nothing for the office to decide
    client.force_login(officer)
    html = client.get("/").content.decode()
    link = re.search(
        r'<a class="button" href="([^"]+)">Reviews to decide <span class="status">(\d+)</span>', html
    )
    assert link and link[2] == "2", html
    listed = client.get(link[1].replace("&amp;", "&")).content.decode()
    assert review.code in listed and re_review.code in listed
    assert listed.count('href="/petitions/PET-') == 2


def test_the_registry_keeps_every_status_it_was_filtered_by(client, pet):
    """The home page's "Reviews to decide" opens the registry filtered by two statuses; its status
    select showed only the last one ("under re-review"), and sending the filters again dropped the
    reviews. Filtered by several, the select takes several and shows each chosen one selected."""
    officer = pet.cast.petition_officer
    review = pet.replied()
    review.transition(action="request_review", actor=officer)
    client.force_login(officer)
    html = client.get("/petitions/?status=under_review&status=under_re_review").content.decode()
    select = re.search(r'<select name="status"([^>]*)>(.*?)</select>', html, re.S)
    assert (
        "multiple" in select[1] and f'size="{len(Petition.Status) + 1}"' in select[1]
    )  # every option in sight
    chosen = re.findall(r'<option value="([^"]*)" selected>', select[2])
    assert chosen == ["under_review", "under_re_review"]
    # Sent again as shown (both chosen), the list is the same.
    again = client.get("/petitions/", {"status": chosen})
    assert again.status_code == 200 and review.code in again.content.decode()
    # Filtered by one status, it is the plain select it was.
    html = client.get("/petitions/?status=registered").content.decode()
    assert re.search(r'<select name="status">', html)


def test_the_petition_page_runs_a_constant_number_of_queries(client, pet, django_assert_max_num_queries):
    petition = pet.replied()
    client.force_login(pet.cast.petition_officer)
    client.get(f"/petitions/{petition.code}/")  # warm the session and the calendar cache
    with django_assert_max_num_queries(14) as first:
        assert client.get(f"/petitions/{petition.code}/").status_code == 200
    officer = pet.cast.petition_officer
    # More events, answers and evaluations: the review and the re-review, each evaluated.
    for decision in ("decide_review", "decide_re_review"):
        petition.transition(action="evaluate", actor=officer, evaluation="dissatisfied")
        petition.transition(action="request_review", actor=officer)
        petition.transition(action=decision, actor=officer, decision="upheld", note="维持")
    petition.transition(action="evaluate", actor=officer, evaluation="satisfied")
    assert petition.events.count() >= 10
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get(f"/petitions/{petition.code}/").status_code == 200


def test_the_complained_unit_sees_neither_end_of_a_repeat_link_to_its_complaint(client, pet):
    c = pet.cast
    first = pet.register()
    first.transition(action="assign", actor=c.petition_officer, department=c.urban.pk)
    complaint = pet.register(complained=True, repeat_of=first.code)
    client.force_login(pet.urban_user)
    # On the complaint: no "Repeat of" the petition the unit handles (where it may reveal who came).
    html = client.get(f"/petitions/{complaint.code}/").content.decode()
    assert "工地" in html and first.code not in html
    # On the petition it handles: no "Repeated by" the complaint.
    html = client.get(f"/petitions/{first.code}/").content.decode()
    person = first.petitioners.get()
    assert f'action="/petitions/{first.code}/petitioners/{person.pk}/reveal/"' in html  # it handles this one
    assert complaint.code not in html
    client.force_login(c.petition_officer)
    assert first.code in client.get(f"/petitions/{complaint.code}/").content.decode()
    assert complaint.code in client.get(f"/petitions/{first.code}/").content.decode()


def test_the_complained_unit_sees_no_names_in_its_list(client, pet):
    petition = pet.register(complained=True)
    client.force_login(pet.urban_user)
    html = client.get("/petitions/").content.decode()
    assert petition.code in html and "王**" not in html


def test_the_repeat_check_tells_an_officer_of_the_unit_complained_about_nothing(client, pet):
    # The petition office may itself be the unit complained about (信访局). Typing a suspected
    # complainant's ID number or phone into the intake's repeat check named the complaint about
    # that office: a search for who complained about it. The check (and a repeat_of naming the
    # complaint) now answers as for a person who never petitioned; another officer still finds it.
    c = pet.cast
    complaint = pet.register(area=c.community_a1a, complained_unit=c.petition_office)
    client.force_login(c.petition_officer)
    for typed in ({"p1_id_number": ""}, {"p0_id_number": "", "p1_id_number": ""}):  # by ID, by phone
        resp = client.post("/petitions/new/repeats/", intake_data(c, **typed), HTTP_HX_REQUEST="true")
        assert resp.status_code == 200 and complaint.code not in resp.content.decode()
    resp = client.post("/petitions/new/", intake_data(c, repeat_of=complaint.code))
    assert resp.status_code == 400 and Petition.objects.count() == 1
    other = make_user("other_officer", Role.PETITION_OFFICER, c.district_a)
    client.force_login(other)
    resp = client.post("/petitions/new/repeats/", intake_data(c), HTTP_HX_REQUEST="true")
    assert complaint.code in resp.content.decode()


def test_the_repeat_check_is_for_petition_officers_only(client, pet):
    client.force_login(pet.cast.department_user)
    assert client.post("/petitions/new/repeats/", {"category": "urban"}).status_code == 403


def test_the_petition_page_offers_to_link_a_likely_repeat_only_when_one_exists(client, pet):
    first = pet.register(received_at=timezone.now() - dt.timedelta(days=5))
    second = pet.register()
    alone = pet.register(category="labour")
    client.force_login(pet.cast.petition_officer)
    assert 'id="action-link_repeat"' not in client.get(f"/petitions/{alone.code}/").content.decode()
    html = client.get(f"/petitions/{second.code}/").content.decode()
    assert 'id="action-link_repeat"' in html and first.code in html
    resp = client.post(f"/petitions/{second.code}/act/", {"action": "link_repeat", "repeat_of": first.code})
    assert resp.status_code == 302
    second.refresh_from_db()
    assert second.repeat_of == first


def test_a_revealed_petitioner_is_not_stored_by_the_browser(client, pet):
    petition = pet.register()
    person = petition.petitioners.get()
    client.force_login(pet.cast.petition_officer)
    url = f"/petitions/{petition.code}/petitioners/{person.pk}/reveal/"
    for response in [
        client.post(url, {"reason": "电话回访"}, HTTP_HX_REQUEST="true"),
        client.post(url, {"reason": "电话回访"}),
    ]:
        assert response.status_code == 200 and ID_1 in response.content.decode()
        assert "no-store" in response["Cache-Control"]
    assert PersonalDataAccess.objects.count() == 2


def test_the_intake_asks_the_browser_not_to_remember_petitioners(client, pet):
    # Form history at a shared reception desk would offer one petitioner's details to the next officer.
    import re

    client.force_login(pet.cast.petition_officer)
    html = client.get("/petitions/new/").content.decode()
    tags = re.findall(r'<input[^>]*name="p\d_(?:name|id_number|phone|address)"[^>]*>', html)
    assert len(tags) == 4 * INTAKE_ROWS and all('autocomplete="off"' in tag for tag in tags), tags


def test_the_office_corrects_the_handling_type_on_the_petition_page(client, pet):
    petition = pet.register(handling_type="suggestion")
    client.force_login(pet.cast.petition_officer)
    page = client.get(f"/petitions/{petition.code}/").content.decode()
    form = page[page.index('id="action-correct_type"') :]
    form = form[: form.index("</details>")]
    # The type it has is not offered again; the reason is required.
    assert re.findall(r'<option value="(\w+)">', form) == ["report", "claim"]
    assert '<textarea name="note" id="note-correct_type" rows="2" required>' in form
    assert 'id="action-redirect"' not in page
    resp = client.post(
        f"/petitions/{petition.code}/act/", {"action": "correct_type", "type": "suggestion", "note": "更正"}
    )
    assert resp.status_code == 400 and "already a suggestion" in resp.content.decode()
    resp = client.post(f"/petitions/{petition.code}/act/", {"action": "correct_type", "type": "claim"})
    assert (
        resp.status_code == 400
        and "Give the reason for correcting the handling type." in resp.content.decode()
    )
    assert Petition.objects.get(pk=petition.pk).handling_type == "suggestion"
    resp = client.post(
        f"/petitions/{petition.code}/act/",
        {"action": "correct_type", "type": "claim", "note": "诉求为追讨欠薪"},
        follow=True,
    )
    html = resp.content.decode()
    assert f"Correct the handling type: done ({petition.code})." in html
    entry = html[html.index('data-action="correct_type"') :]
    entry = entry[: entry.index("</li>")]
    assert "<strong>Correct the handling type</strong>" in entry
    assert '<span class="muted">suggestion → claim or appeal</span>' in entry and "诉求为追讨欠薪" in entry
    assert "<dt>Handling type</dt><dd>Claim or appeal</dd>" in html
    assert 'id="action-redirect"' in html
    petition.transition(action="assign", actor=pet.cast.petition_officer, department=pet.cast.police.pk)
    client.force_login(pet.cast.department_user)
    assert 'id="action-correct_type"' not in client.get(f"/petitions/{petition.code}/").content.decode()
    resp = client.post(
        f"/petitions/{petition.code}/act/", {"action": "correct_type", "type": "report", "note": "检举"}
    )
    assert resp.status_code == 403
    client.force_login(pet.cast.outsider)
    resp = client.post(
        f"/petitions/{petition.code}/act/", {"action": "correct_type", "type": "report", "note": "检举"}
    )
    assert resp.status_code == 404
    assert Petition.objects.get(pk=petition.pk).handling_type == "claim"


def test_the_unit_complained_about_is_not_told_which_closed_matter_its_petition_repeats(client, pet):
    """A repeat is the same person: the page and the API hid the link from the unit complained
    about, but the closed-for-good notice and the 409 of a refused step named the complaint's
    number, telling the unit who had complained about it (a petitioner it may reveal)."""
    c = pet.cast
    complaint = pet.replied(complained=True, received_at=timezone.now() - dt.timedelta(days=5))
    _close_for_good(complaint, c.petition_officer)
    later = pet.register(repeat_of=complaint.code)
    later.transition(action="assign", actor=c.petition_officer, department=c.urban.pk)
    client.force_login(pet.urban_user)
    html = client.get(f"/petitions/{later.code}/").content.decode()
    assert 'id="repeat-final">This petition repeats an earlier petition, closed for good' in html
    assert complaint.code not in html
    refused = client.post(f"/petitions/{later.code}/act/", {"action": "accept"})
    assert refused.status_code == 409 and complaint.code not in refused.content.decode()
    api = api_client(pet.urban_user).post(
        f"/api/v1/petitions/{later.code}/transition/", {"action": "accept"}, format="json"
    )
    assert api.status_code == 409 and "an earlier petition" in api.json()["detail"]
    assert complaint.code not in api.json()["detail"]
    # The petition office, which the complaint is not about, is told the number.
    client.force_login(c.petition_officer)
    assert (
        f'id="repeat-final">This petition repeats {complaint.code}'
        in client.get(f"/petitions/{later.code}/").content.decode()
    )


def test_an_accepted_repeat_of_a_matter_closed_for_good_is_declined_on_the_page(client, pet):
    original = pet.replied()
    _close_for_good(original, pet.cast.petition_officer)
    repeat = pet.accepted()
    repeat.transition(action="link_repeat", actor=pet.cast.petition_officer, repeat_of=original.code)
    client.force_login(pet.cast.department_user)
    html = client.get(f"/petitions/{repeat.code}/").content.decode()
    banner = html[html.index('id="repeat-final"') :]
    assert banner.startswith(
        f'id="repeat-final">This petition repeats {original.code}, closed for good after its re-review'
    )
    assert "Though accepted, it is not answered again; the department declines it with that reason." in banner
    assert (
        'id="action-decline"' in html and 'id="action-reply"' not in html and 'id="action-extend"' not in html
    )
    resp = client.post(
        f"/petitions/{repeat.code}/act/", {"action": "reply", "opinion": "support", "text": "x"}
    )
    assert resp.status_code == 409 and original.code in resp.content.decode()
    resp = client.post(f"/petitions/{repeat.code}/act/", {"action": "decline", "note": ""})
    assert (
        resp.status_code == 400 and "Give the reason the petition is not accepted." in resp.content.decode()
    )
    assert Petition.objects.get(pk=repeat.pk).status == "accepted"
    resp = client.post(
        f"/petitions/{repeat.code}/act/", {"action": "decline", "note": "复核后不再受理"}, follow=True
    )
    html = resp.content.decode()
    assert f"Decline: done ({repeat.code})." in html
    assert '<span class="muted">accepted by the department → not accepted</span>' in html
    assert 'id="repeat-final"' not in html and 'id="actions"' not in html
    repeat.refresh_from_db()
    assert repeat.status == "declined" and repeat.due_at is None


def test_the_reply_form_offers_what_the_handling_type_takes(client, pet):
    client.force_login(pet.cast.department_user)

    def reply_form(petition):
        page = client.get(f"/petitions/{petition.code}/").content.decode()
        return page[page.index('id="action-reply"') :].split("</details>")[0]

    claim = reply_form(pet.accepted())
    assert 'value="support"' in claim and 'value="adopted"' not in claim
    suggestion = reply_form(pet.accepted(handling_type="suggestion"))
    assert 'value="part_adopted"' in suggestion and 'value="support"' not in suggestion
    assert "Suggestion adopted?" in suggestion
    report = pet.accepted(handling_type="report")
    form = reply_form(report)
    assert 'name="opinion"' not in form and "answered with the handling result" in form
    response = client.post(f"/petitions/{report.code}/act/", {"action": "reply", "text": "已查处"})
    assert response.status_code == 302
    page = client.get(f"/petitions/{report.code}/").content.decode()
    reply = page[page.index('<dd id="reply">') :].split("</dd>")[0]
    assert (
        reply.startswith('<dd id="reply"><span class="nowrap">20') and "已查处" in reply
    )  # the date first: no opinion, no " · "


def _step(html, action):
    form = html[html.index(f'id="action-{action}"') :]
    return '<details class="pet-action" ' + form[: form.index("</details>")]


def _tag(html, element_id):
    at = html.index(f'id="{element_id}"')
    return html[html.rindex("<", 0, at) : html.index(">", at) + 1]


def test_a_refused_type_correction_keeps_the_chosen_type_and_names_the_reason(client, pet):
    """Correcting the type without a reason came back with the chosen type cleared and the error in a
    banner at the top only."""
    petition = pet.register(handling_type="suggestion")
    client.force_login(pet.cast.petition_officer)
    resp = client.post(f"/petitions/{petition.code}/act/", {"action": "correct_type", "type": "claim"})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert 'id="action-error"' in html
    step = _step(html, "correct_type")
    assert step.startswith('<details class="pet-action" id="action-correct_type" open>')
    assert '<option value="claim" selected>' in step
    note = _tag(step, "note-correct_type")
    assert 'aria-invalid="true"' in note and 'aria-describedby="note-correct_type-error"' in note
    assert (
        "Give the reason for correcting the handling type." in step.split('id="note-correct_type-error"')[1]
    )
    # The step first in the list is folded: the refused one is the one to finish.
    first = html[html.index('<details class="pet-action"') :].split(">")[0]
    assert 'id="action-correct_type"' in first or " open" not in first
    assert Petition.objects.get(pk=petition.pk).handling_type == "suggestion"


def test_a_refused_reply_keeps_the_written_text(client, pet):
    """The department's written reply was lost whenever the step was refused (e.g. no opinion)."""
    petition = pet.accepted()
    client.force_login(pet.cast.department_user)
    text = "经核查，工地已停止夜间施工。\n如有异议可申请复查 <附件>。"
    resp = client.post(
        f"/petitions/{petition.code}/act/", {"action": "reply", "text": text, "note": "电话告知"}
    )
    assert resp.status_code == 400
    step = _step(resp.content.decode(), "reply")
    assert " open>" in step.split("\n")[0]
    assert ">经核查，工地已停止夜间施工。\n如有异议可申请复查 &lt;附件&gt;。</textarea>" in step
    assert ">电话告知</textarea>" in step
    assert 'aria-invalid="true"' in _tag(step, "opinion-reply") and 'id="opinion-reply-error"' in step
    # The other steps are not refilled with what was typed in this one.
    assert "电话告知" not in _step(resp.content.decode(), "extend")
    assert Petition.objects.get(pk=petition.pk).replied_at is None


def test_an_overdue_petition_names_the_day_it_was_due_not_a_day_it_was_on_time(client, pet):
    """A deadline ends at 23:59:59 of its day; "overdue since 2026-11-29" said the item was late on a
    day it was still on time."""
    petition = pet.register()
    petition.refresh_from_db()
    due_day = timezone.localdate(petition.route_due_at)
    assert timezone.localtime(petition.route_due_at).hour == 23  # the end of that day
    Petition.objects.filter(pk=petition.pk).update(
        due_at=F("route_due_at") - dt.timedelta(days=20),
        route_due_at=F("route_due_at") - dt.timedelta(days=20),
    )
    client.force_login(pet.cast.petition_officer)
    html = client.get("/petitions/").content.decode()
    day = (due_day - dt.timedelta(days=20)).isoformat().replace("-", "\u2011")
    assert f"overdue, was due {day}" in html and "overdue since" not in html
    html = client.get("/petitions/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "起逾期" not in html


def _field_errors(html, name):
    """The error list rendered right after the input ``name``."""
    after = html[html.index(f'name="{name}"') :]
    after = after[after.index(">") + 1 :]
    return after[: after.index("</div>")] if '<ul class="errorlist"' in after[:400] else ""


def test_one_intake_submit_reports_every_error(client, pet):
    """Zero persons was flagged first; the receipt date, ID number and phone only on the next submit
    (the service's checks ran only once the form's own were satisfied). Nothing is saved."""
    client.force_login(pet.cast.petition_officer)
    data = intake_data(
        pet.cast,
        persons_count="0",
        received_at=f"{timezone.localdate().year + 5}-01-01T09:00",
        p0_id_number="123",
        p0_phone="abc",
    )
    resp = client.post("/petitions/new/", data)
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "greater than or equal to 1" in _field_errors(html, "persons_count")
    assert "cannot be in the future" in _field_errors(html, "received_at")
    assert "17 digits" in _field_errors(html, "p0_id_number")
    assert _field_errors(html, "p0_phone")
    assert not Petition.objects.exists()
    # The form's own message is kept where it flagged a field: not doubled by the service's.
    assert _field_errors(html, "persons_count").count("<li>") == 1


def test_an_error_of_a_later_petitioner_row_shows_under_that_row(client, pet):
    """The service numbers the rows it is given; with row 2 left blank, an error of row 3 showed
    under row 2."""
    client.force_login(pet.cast.petition_officer)
    data = intake_data(pet.cast, p1_name="", p1_id_number="", p2_name="赵敏", p2_phone="abc")
    resp = client.post("/petitions/new/", data)
    assert resp.status_code == 400
    html = resp.content.decode()
    assert _field_errors(html, "p2_phone") and not _field_errors(html, "p1_phone")
    assert not Petition.objects.exists()


def test_a_refused_category_adds_no_guess_about_the_repeat_link(client, pet):
    """With the category refused, the service checked the repeat link against no category and
    reported "not a likely repeat" as well: a guess about a field already flagged."""
    client.force_login(pet.cast.petition_officer)
    resp = client.post("/petitions/new/", intake_data(pet.cast, category="", repeat_of="PET-2026-000009"))
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "Choose a category." in html and "not a likely repeat" not in html
    assert not Petition.objects.exists()


def test_a_reveal_reason_too_long_says_so_and_the_field_stops_at_the_limit(client, pet):
    """A reason over 500 characters was answered "Say why you need to see this person's details":
    the officer had said why, at length, and was told to say why. The field now says what is
    wrong, and the input stops at the limit as the one on a dispute case does."""
    petition = pet.register()
    person = petition.petitioners.get()
    client.force_login(pet.cast.petition_officer)
    url = f"/petitions/{petition.code}/petitioners/{person.pk}/reveal/"
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        html = client.post(url, {"reason": "核" * 501}, **headers).content.decode()
        error = re.search(r'<span class="error" role="alert" id="reason-\d+-error">([^<]+)</span>', html)
        assert error and "Say why" not in error[1] and "500" in error[1], html
    assert not PersonalDataAccess.objects.exists()
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    field = re.search(r'<input type="text" name="reason"[^>]*>', html)[0]
    assert 'maxlength="500"' in field


def test_the_repeat_check_matches_identities_only_for_those_who_may_reveal_them(client, pet):
    """An administrator (or a superuser) may register a petition but never reveal a petitioner
    (403). The repeat check answered them anyway: typing a suspected person's ID number or phone
    named that person's petitions, an identity shown without a reveal and without its log. They are
    offered no likely repeat now (a petition officer links it); the officer still finds it."""
    c = pet.cast
    earlier = pet.register(area=c.community_a1a)
    district_admin = make_user("district_admin", Role.ADMIN, c.district_a)
    for user in (district_admin, c.admin):
        client.force_login(user)
        assert client.get(f"/api/v1/petitions/{earlier.code}/").status_code == 200  # they read it
        for typed in ({"p1_id_number": ""}, {"p0_id_number": "", "p1_id_number": ""}):  # by ID, by phone
            resp = client.post("/petitions/new/repeats/", intake_data(c, **typed), HTTP_HX_REQUEST="true")
            assert resp.status_code == 200 and earlier.code not in resp.content.decode(), user
        resp = client.post("/petitions/new/", intake_data(c, repeat_of=earlier.code))
        assert resp.status_code == 400 and Petition.objects.count() == 1
    later = pet.register(area=c.community_a1a)
    for user in (district_admin, c.admin):
        client.force_login(user)
        assert earlier.code not in client.get(f"/petitions/{later.code}/").content.decode()
        assert client.get(f"/api/v1/petitions/{later.code}/").json()["likely_repeats"] == []
    client.force_login(c.petition_officer)
    resp = client.post("/petitions/new/repeats/", intake_data(c), HTTP_HX_REQUEST="true")
    assert earlier.code in resp.content.decode()
    assert client.get(f"/api/v1/petitions/{later.code}/").json()["likely_repeats"] == [earlier.code]


def test_the_unit_handling_a_repeat_of_a_complaint_about_it_is_not_shown_the_complaint(client, pet):
    """The other way round from the test above: the person first complained about the unit, then
    came again on the same matter, and that petition was routed to the unit. The unit may reveal who
    brought the second, and its page and the API named the first, the complaint about it, as its
    "Repeat of": who complained about the unit. The link is not shown to the unit; ``is_repeat``
    stays, and the office sees the link."""
    c = pet.cast
    complaint = pet.register(complained=True, received_at=timezone.now() - dt.timedelta(days=5))
    later = pet.register(repeat_of=complaint.code)
    later.transition(action="assign", actor=c.petition_officer, department=c.urban.pk)
    client.force_login(pet.urban_user)
    html = client.get(f"/petitions/{later.code}/").content.decode()
    person = later.petitioners.get()
    assert f'action="/petitions/{later.code}/petitioners/{person.pk}/reveal/"' in html  # it handles this one
    assert complaint.code not in html
    body = client.get(f"/api/v1/petitions/{later.code}/").json()
    assert (body["is_repeat"], body["repeat_of"]) == (True, None)
    listed = next(r for r in client.get("/api/v1/petitions/").json()["results"] if r["code"] == later.code)
    assert listed["repeat_of"] is None
    assert complaint.code not in client.get("/petitions/inbox/").content.decode()
    # Nor, on the complaint, "Repeated by" the petition it handles.
    html = client.get(f"/petitions/{complaint.code}/").content.decode()
    assert "identity-protected" in html and later.code not in html
    client.force_login(c.petition_officer)
    assert later.code in client.get(f"/petitions/{complaint.code}/").content.decode()
    assert complaint.code in client.get(f"/petitions/{later.code}/").content.decode()
    assert client.get(f"/api/v1/petitions/{later.code}/").json()["repeat_of"] == complaint.code


def test_the_intake_form_sent_twice_registers_one_petition(client, pet):
    """A double click on Register at the reception desk, or a resend after a lost answer: two PET
    numbers for one visit, the second flagged as a repeat of the first."""
    client.force_login(pet.cast.petition_officer)
    html = client.get("/petitions/new/").content.decode()
    key = re.search(r'name="submission" value="([0-9a-f-]{36})"', html).group(1)
    first = client.post("/petitions/new/", intake_data(pet.cast, submission=key))
    again = client.post("/petitions/new/", intake_data(pet.cast, submission=key))
    assert first.status_code == again.status_code == 302 and first.url == again.url
    assert Petition.objects.count() == 1
    refused = client.post("/petitions/new/", intake_data(pet.cast, content="", submission="x"))
    page = refused.content.decode()
    assert refused.status_code == 400 and 'value="x"' not in page
    assert re.search(r'name="submission" value="[0-9a-f-]{36}"', page) and Petition.objects.count() == 1


def test_the_intake_page_records_the_signatories_of_a_joint_letter(client, pet):
    """A joint letter signed by more people than a group visit may send: the page offers rows for them,
    folded away until one is typed in, and refuses a sixth only for a visit."""
    client.force_login(pet.cast.petition_officer)
    html = client.get("/petitions/new/").content.decode()
    assert 'name="p9_name"' in html and re.search(r'<details class="pet-more">', html)
    rows = {
        f"p{i}_{f}": v for i in range(2, 7) for f, v in (("name", f"联名人{i}"), ("phone", f"1380000000{i}"))
    }
    visit = client.post("/petitions/new/", intake_data(pet.cast, persons_count="7", **rows))
    page = visit.content.decode()
    assert visit.status_code == 400 and "at most 5 representatives" in page and not Petition.objects.exists()
    assert re.search(r'<details class="pet-more" open>', page)  # the rows typed stay in view
    letter = client.post(
        "/petitions/new/", intake_data(pet.cast, channel="letter", persons_count="7", **rows)
    )
    assert letter.status_code == 302 and Petition.objects.get().petitioners.count() == 7


def test_the_registry_filter_form_sent_as_shown_lists_the_petitions(client, pet):
    """The status filter refused the empty "any" value the form sends: a 400 and no petitions."""
    petition = pet.register()
    client.force_login(pet.cast.petition_officer)
    query = filter_form_as_shown(client.get("/petitions/").content.decode())
    assert "status=" in query.split("&")
    response = client.get(f"/petitions/?{query}")
    assert response.status_code == 200 and petition.code in response.content.decode()


def test_the_intake_page_refuses_a_content_past_its_limit_naming_it(client, pet):
    client.force_login(pet.cast.petition_officer)
    response = client.post("/petitions/new/", intake_data(pet.cast, content="访" * 20001))
    page = response.content.decode()
    assert response.status_code == 400 and re.search(
        r'<textarea[^>]*name="content"[^>]*aria-invalid="true"', page
    )
    assert not Petition.objects.exists()


@pytest.mark.parametrize(
    "rows, message",
    [
        ({f"p{i}_name": f"代表{i}" for i in range(6)}, "A group chooses at most 5 representatives."),
        ({"p0_name": "", "p0_id_number": "", "p0_phone": "", "p0_address": "", "p1_name": "", "p1_id_number": ""},
         "Record at least one petitioner."),
    ],
    ids=["six-at-a-visit", "none"],
)  # fmt: skip
def test_an_error_about_the_petitioners_as_a_whole_is_shown_under_their_heading(client, pet, rows, message):
    """It came at the top of the form, as an error of the whole form, a screen away from the rows
    it is about; the page's place for it, under the petitioners' heading, stayed empty."""
    client.force_login(pet.cast.petition_officer)
    resp = client.post("/petitions/new/", intake_data(pet.cast, persons_count="8", **rows))
    page = resp.content.decode()
    assert resp.status_code == 400 and not Petition.objects.exists()
    heading = page.index('<h2 class="pet-subhead">')
    assert page.count(message) == 1 and page.index(message) > heading
    assert "nonfield" not in page
    assert "Not saved. Please correct the fields marked below." in page


def test_an_item_on_the_last_day_of_its_limit_reads_due_today_not_zero_days_left(client, pet):
    """A limit runs to the end of its last day: on that day the countdown said "0 days left"
    (剩余 0 天), which read as already run out, though the step could still be done in time."""
    today = pet.register()
    Petition.objects.filter(pk=today.pk).update(due_at=end_of_local_day(timezone.now()))
    tomorrow = pet.register()
    Petition.objects.filter(pk=tomorrow.pk).update(
        due_at=end_of_local_day(timezone.now() + dt.timedelta(days=1))
    )
    client.force_login(pet.cast.petition_officer)
    html = client.get("/petitions/").content.decode()
    rows = dict(
        re.findall(r'data-code="([^"]+)".*?<span class="pet-due[^"]*"[^>]*>([^<]*)</span>', html, re.S)
    )
    assert rows[today.code] == "due today" and rows[tomorrow.code] == "1 day left"
    page = client.get(f"/petitions/{today.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "剩余 0 天" not in page


def test_an_empty_intake_post_names_the_missing_fields_with_a_400(client, pet):
    # A POST with no fields at all (a proxy that drops the body, a script) was read as "no form
    # sent", and the service check then read an unbound form: a 500 instead of the field errors.
    client.force_login(pet.cast.petition_officer)
    resp = client.post("/petitions/new/", {})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "This field is required." in html and 'id="id_content"' in html
    assert not Petition.objects.exists()


def test_registry_pages_list_every_petition_once_when_deadlines_and_receipts_tie(client, pet):
    # Ordered by deadline then receipt only, rows that tie on both had no fixed order: the database
    # may sort them differently for each page, and a petition could show on two pages and another on none.
    for _i in range(51):
        pet.register()
    Petition.objects.update(due_at=timezone.now() + dt.timedelta(days=3), received_at=timezone.now())
    client.force_login(pet.cast.petition_officer)
    seen = []
    for number in (1, 2):
        page = client.get(f"/petitions/?page={number}").context["page"]
        assert page.object_list.query.order_by[-1] == "-pk"
        seen += [p.code for p in page.object_list]
    assert sorted(seen) == sorted(Petition.objects.values_list("code", flat=True))


def test_the_department_inbox_pages_every_item_instead_of_cutting_at_300(
    client, pet, django_assert_max_num_queries
):
    # It showed the first 300 items and left the rest out without a word. Paged by 50 here.
    first = pet.routed()
    for _i in range(50):
        pet.routed()
    Petition.objects.filter(pk=first.pk).update(due_at=timezone.now() + dt.timedelta(days=90))  # the last
    client.force_login(pet.cast.department_user)
    with django_assert_max_num_queries(12):
        html = client.get("/petitions/inbox/").content.decode()
    assert '<span class="status">51</span>' in html and "1 / 2" in html and first.code not in html
    assert 'href="?page=2"' in html
    second = client.get("/petitions/inbox/?page=2").content.decode()
    assert first.code in second and 'href="?page=1"' in second
    Petition.objects.filter(pk=first.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    late = client.get("/petitions/inbox/?overdue=true").content.decode()
    assert first.code in late and '<span class="status">1</span>' in late


def test_a_step_sent_twice_is_taken_once_and_answered_as_done(client, pet):
    # The second send of a form (a retry, a second tap before the first answer) was refused with a
    # 409 over a step the first had just taken; the API's retry after a lost answer too.
    petition = pet.routed()
    client.force_login(pet.cast.department_user)
    accept = {"action": "accept", "note": "书面告知已受理", "state": "routed"}
    first = client.post(f"/petitions/{petition.code}/act/", accept)
    again = client.post(f"/petitions/{petition.code}/act/", accept)
    assert first.status_code == again.status_code == 302
    assert petition.events.filter(action="accept").count() == 1
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    latest = petition.events.latest("id").pk  # forms drawn now, with the latest event (docs/petitions.md)
    assert f'<input type="hidden" name="state" value="accepted@{latest}">' in html
    other = pet.routed()
    url = f"/api/v1/petitions/{other.code}/transition/"
    api = api_client(pet.cast.department_user)
    assert api.post(url, accept, format="json").status_code == 200
    retried = api.post(url, accept, format="json")
    assert retried.status_code == 200 and retried.json()["status"] == "accepted"
    assert other.events.filter(action="accept").count() == 1
    assert api.post(url, {"action": "accept", "note": "再次"}, format="json").status_code == 409


def test_the_intake_offers_only_the_areas_the_office_registers_in(client, pet):
    # The officer was also a city-wide analyst: the list offered district B's streets, which the
    # registration then refused as "outside your responsibility".
    from governance.models import Membership

    c = pet.cast
    Membership.objects.create(user=c.petition_officer, role=Role.ANALYST, area=c.city)
    client.force_login(c.petition_officer)
    select = re.search(
        r'<select name="area".*?</select>', client.get("/petitions/new/").content.decode(), re.S
    )
    assert c.street_b1.code not in select.group(0) and c.street_a1.code in select.group(0)


def test_a_review_decision_names_its_missing_decision_and_reasons_together(client, pet):
    # The reasons' error came only on a second submit, once the decision was chosen.
    petition = pet.replied()
    office = pet.cast.petition_officer
    petition.transition(action="request_review", actor=office)
    client.force_login(office)
    response = client.post(
        f"/petitions/{petition.code}/act/",
        {"action": "decide_review", "state": "under_review", "decision": "", "note": ""},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="decision-decide_review-error"' in html and 'id="note-decide_review-error"' in html


def test_the_inbox_reads_overdue_as_the_registry_does(client, pet):
    # ?overdue=yes listed every item, the filter dropped without a word.
    pet.routed()
    client.force_login(pet.cast.department_user)
    refused = client.get("/petitions/inbox/?overdue=yes")
    assert refused.status_code == 400 and 'id="filter-error"' in refused.content.decode()
    assert client.get("/petitions/inbox/?overdue=true").status_code == 200
    assert client.get("/petitions/inbox/?overdue=false").status_code == 200
    assert client.get("/petitions/inbox/").context["page"].paginator.count == 1


def test_no_petitioner_recorded_marks_the_first_name_and_describes_it_by_the_error(client, pet):
    """The error "Record at least one petitioner." named no field: nothing was aria-invalid, and the focus (which
    goes to the first field marked) stayed at the top, a screen away from the empty rows. The first
    petitioner's name is the field to fill: it is marked and described by the error."""
    client.force_login(pet.cast.petition_officer)
    empty = {f"p{i}_{n}": "" for i in range(2) for n in ("name", "id_number", "phone", "address")}
    resp = client.post("/petitions/new/", intake_data(pet.cast, **empty))
    page = resp.content.decode()
    assert resp.status_code == 400 and not Petition.objects.exists()
    assert_marked_invalid(page, "id_p0_name", "Record at least one petitioner.")
    assert attrs_of(page, "id_p0_name")["aria-describedby"] == "id_petitioners_error"
    assert attrs_of(page, "id_p1_name").get("aria-invalid") is None


def test_too_many_representatives_is_described_but_marks_no_name(client, pet):
    """Six representatives at a visit: no one name is wrong, so none is marked; the error has its id."""
    client.force_login(pet.cast.petition_officer)
    rows = {f"p{i}_name": f"代表{i}" for i in range(6)}
    page = client.post("/petitions/new/", intake_data(pet.cast, persons_count="8", **rows)).content.decode()
    error = page[page.index('id="id_petitioners_error"') :]
    assert error[: error.index("</ul>")].endswith("A group chooses at most 5 representatives.</li>")
    assert attrs_of(page, "id_p0_name").get("aria-invalid") is None


def test_a_petition_received_late_on_a_saturday_is_routed_by_the_end_of_the_monday_two_weeks_on(client, pet):
    # Received last Saturday at 23:30 (local), registered from the page afterwards: the 15 days run
    # from the Saturday, not the day of registration, and end on a Sunday, so on the Monday after it.
    # These tests load no holiday calendar: weekends are the only rest days.
    today = timezone.localdate()
    saturday = today - dt.timedelta(days=(today.weekday() - 5) % 7 or 7)
    client.force_login(pet.cast.petition_officer)
    resp = client.post("/petitions/new/", intake_data(pet.cast, received_at=f"{saturday.isoformat()}T23:30"))
    petition = Petition.objects.get()
    assert resp.status_code == 302 and timezone.localdate(petition.received_at) == saturday
    monday = saturday + dt.timedelta(days=16)
    assert petition.route_due_at == end_of_local_day(
        timezone.make_aware(dt.datetime.combine(monday, dt.time(12)))
    )
    assert petition.due_at == petition.route_due_at
    page = client.get(f"/petitions/{petition.code}/").content.decode()
    assert monday.isoformat() in page


def test_the_reply_evaluation_and_review_read_as_sentences_with_their_dates_on_one_line(client, pet):
    """In English the facts read "explanation · 2026-11-" / "25", "basically satisfied" and
    "original opinion upheld" in lower case beside "Original opinion changed" for a re-review: each
    now starts with a capital, as every other value of the page does, and no date breaks at a hyphen."""
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="evaluate", actor=officer, evaluation="basically")
    petition.transition(action="request_review", actor=officer, note="申请复查")
    petition.transition(action="decide_review", actor=officer, decision="upheld", note="维持原意见")
    client.force_login(officer)
    page = client.get(f"/petitions/{petition.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    replied = timezone.localdate(petition.replied_at).isoformat()
    reviewed = timezone.localdate(petition.reviewed_at).isoformat()
    assert f'<dd id="reply">Support · <span class="nowrap">{replied}</span>' in page
    assert '<dd id="evaluation">Basically satisfied</dd>' in page
    assert (
        f'<dd id="review-decision">Original opinion upheld · <span class="nowrap">{reviewed}</span>' in page
    )


def test_the_registry_keeps_each_masked_petitioner_on_one_line(client, pet):
    """As the dispute list: 王**、刘** broke as 王**、刘 / ** in a narrow Petitioners column."""
    pet.register(petitioners=petitioners(2))
    client.force_login(pet.cast.petition_officer)
    html = client.get("/petitions/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<span class="nowrap">王**</span>、<span class="nowrap">刘**</span>' in html


def test_the_registry_separates_petitioners_as_the_pages_language_does(client, pet):
    """A page in English joined the petitioners with a Chinese 、: the separator is the page's."""
    pet.register(petitioners=petitioners(2))
    client.force_login(pet.cast.petition_officer)
    html = client.get("/petitions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span class="nowrap">王**</span>, <span class="nowrap">刘**</span>' in html


def test_a_step_with_faulty_fields_from_a_user_whose_role_may_not_take_it_is_403(client, pet):
    """The petition page checked the form first: the department was shown what to fix in an office
    step (400), as if the fixed step would be taken; it is the 403 a complete one gets."""
    petition = pet.routed()
    url = f"/petitions/{petition.code}/act/"
    client.force_login(pet.cast.department_user)
    assert client.post(url, {"action": "assign", "department": "abc"}).status_code == 403
    client.force_login(pet.cast.petition_officer)
    resp = client.post(url, {"action": "accept", "days": "abc"})  # the department's step: not theirs
    assert resp.status_code == 403
    client.force_login(pet.cast.department_user)
    resp = client.post(url, {"action": "accept", "days": "abc"})
    assert resp.status_code == 400 and "days" in resp.content.decode().lower()
    petition.refresh_from_db()
    assert petition.status == "routed"


def test_the_status_badges_of_the_registry_read_as_labels_in_english(client, pet):
    """'registered', 'routed to a department' in English beside capitalised cells: the label
    starts with a capital, the CSS class keeps the raw value."""
    pet.register(petitioners=petitioners(1), persons_count=8)
    pet.routed()
    client.force_login(pet.cast.petition_officer)
    html = client.get("/petitions/").content.decode()
    assert '<span class="status pet-status-registered">Registered</span>' in html
    assert '<span class="status pet-status-routed">Routed to a department</span>' in html
    assert '<span class="status pet-flag-group">Group 8</span>' in html  # a flag is a badge too


def test_the_intake_page_takes_an_area_merged_away_after_the_petition_was_received(client, pet):
    """The area is judged in service on the receipt day (docs/petitions.md): a letter received
    before its community was merged away is registered for it, and the page lists it again when
    the form comes back for another field."""
    from governance.models import Area

    today = timezone.localdate()
    community = pet.cast.community_a1a
    Area.objects.filter(pk=community.pk).update(in_service_until=today - dt.timedelta(days=1))
    received = (timezone.localtime() - dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    client.force_login(pet.cast.petition_officer)
    resp = client.post("/petitions/new/", intake_data(pet.cast, received_at=received, content=""))
    assert resp.status_code == 400 and not Petition.objects.exists()
    select = re.search(r'<select name="area".*?</select>', resp.content.decode(), re.S).group(0)
    assert re.search(rf'value="{community.code}"[^>]*selected', select)
    resp = client.post("/petitions/new/", intake_data(pet.cast, received_at=received))
    assert resp.status_code == 302 and Petition.objects.get().area == community
    # The list follows the receipt time typed: redrawn for that day, today's without one.
    page = client.get("/petitions/new/").content.decode()
    select = re.search(r'<select name="area".*?</select>', page, re.S).group(0)
    assert f'value="{community.code}"' not in select
    assert "#id_received_at" in attrs_of(page, "id_area")["hx-include"]
    url = "/petitions/new/choices/?field=area"
    assert f'value="{community.code}"' in client.get(f"{url}&received_at={received}").content.decode()
    assert f'value="{community.code}"' not in client.get(url).content.decode()
    # A receipt time the registration refuses (to come) lists today's areas, not those of that day.
    Area.objects.filter(pk=community.pk).update(
        in_service_from=today + dt.timedelta(days=2), in_service_until=None
    )
    future = (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{community.code}"' not in client.get(f"{url}&received_at={future}").content.decode()


def test_a_group_petition_says_how_many_representatives_or_named_petitioners_it_has(
    client, pet, django_assert_max_num_queries
):
    """DOMAIN.md "Petitions": a group visit chooses at most five representatives and records the
    number of people. The page and the registry said "7 · group" only, not who speaks for the seven;
    a joint letter names its signatories, which are no representatives."""
    visit = pet.register(persons_count=7, channel="visit", petitioners=petitioners(2))
    letter = pet.register(persons_count=6, channel="letter", petitioners=petitioners(1))
    client.force_login(pet.cast.petition_officer)

    def facts(code):
        html = client.get(f"/petitions/{code}/").content.decode()
        dd = re.search(r"<dt>Persons</dt><dd>(.*?)</dd>", html, re.S).group(1)
        return " ".join(re.sub(r"<[^>]+>", " ", dd).split())

    assert facts(visit.code) == "7 Group petition · 2 representatives"
    assert facts(letter.code) == "6 Group petition · 1 named"
    client.get("/petitions/")  # warm the session
    with django_assert_max_num_queries(13):  # one for the areas' names that tell namesakes apart
        html = client.get("/petitions/").content.decode()
    rows = {
        code: " ".join(re.sub(r"<[^>]+>", " ", cell).split())
        for code, cell in re.findall(
            r'data-code="([^"]+)">\s*<td class="pet-code[^>]*>(.*?)</td>', html, re.S
        )
    }
    assert rows[visit.code] == f"{visit.code} Group 7 · 2 representatives"
    assert rows[letter.code] == f"{letter.code} Group 6 · 1 named"
    # Chinese: the count of representatives reads as such.
    html = client.get(f"/petitions/{visit.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "代表 2 人" in html


def test_the_department_declines_a_claim_on_the_page_naming_its_legal_route(client, pet):
    """DOMAIN.md "Handling types": the department's decline form offers the legal route a claim
    belongs to (as the office's redirect does), optional; a suggestion's decline offers none."""
    claim = pet.routed(handling_type="claim")
    suggestion = pet.routed(handling_type="suggestion")
    client.force_login(pet.cast.department_user)
    page = client.get(f"/petitions/{claim.code}/").content.decode()
    form = re.search(r'id="action-decline".*?</form>', page, re.S).group(0)
    assert '<select name="route" id="route-decline"' in form and "arbitration" in form.lower()
    form = re.search(
        r'id="action-decline".*?</form>', client.get(f"/petitions/{suggestion.code}/").content.decode(), re.S
    )
    assert 'name="route"' not in form.group(0)
    resp = client.post(
        f"/petitions/{claim.code}/act/", {"action": "decline", "note": "属劳动争议", "route": "nope"}
    )
    assert resp.status_code == 400 and 'id="route-decline-error"' in resp.content.decode()
    assert Petition.objects.get(pk=claim.pk).status == "routed"
    resp = client.post(
        f"/petitions/{claim.code}/act/", {"action": "decline", "note": "属劳动争议", "route": "arbitration"}
    )
    assert resp.status_code == 302
    html = client.get(f"/petitions/{claim.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert re.search(r"<dt>法定途径</dt><dd>仲裁</dd>", html), html
    assert "仲裁" in _timeline_items(html, "decline")[0]


def test_a_deadline_in_a_year_the_calendar_has_no_dates_for_says_so(client, pet):
    # In December the reply limits run into next year, whose holidays the State Council publishes
    # late and someone enters by hand: until then a due date there counts every weekday as worked
    # and may move, which the petition page did not say (only an administrator's home page did).
    from governance.models import Holiday, SequenceCounter

    petition = pet.accepted()
    for moment in (petition.route_due_at, petition.acknowledge_due_at):
        Holiday.objects.get_or_create(
            date=dt.date(timezone.localtime(moment).year, 1, 1), defaults={"name": "元旦"}
        )
    far_year = timezone.localdate().year + 5  # a year without a calendar whenever the test runs
    far = timezone.make_aware(dt.datetime(far_year, 3, 3, 23, 59, 59))
    Petition.objects.filter(pk=petition.pk).update(reply_due_at=far, due_at=far)
    SequenceCounter.bump("calendar")
    client.force_login(pet.cast.petition_officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    note = f"The calendar has no dates for {far_year} yet"
    assert note in _deadline_row(html, "reply")
    assert "no dates for" not in _deadline_row(html, "route")
    # Entered, the note goes.
    Holiday.objects.create(date=dt.date(far_year, 1, 1), name="元旦")
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    assert "no dates for" not in html


def test_the_lists_say_when_a_deadline_shown_lies_in_a_year_without_a_calendar(client, pet):
    # "35 days left" in the registry, the inbox or a home page's list counted plain weekdays into a
    # year whose holidays were not entered, with nothing said there.
    from governance.models import Holiday

    petition = pet.accepted()
    far_year = timezone.localdate().year + 5  # a year without a calendar whenever the test runs
    far = timezone.make_aware(dt.datetime(far_year, 3, 3, 23, 59, 59))
    Petition.objects.filter(pk=petition.pk).update(reply_due_at=far, due_at=far)
    Holiday.objects.get_or_create(date=dt.date(timezone.localdate().year, 1, 1), defaults={"name": "元旦"})
    officer, department = pet.cast.petition_officer, pet.cast.department_user
    pages = [(officer, "/petitions/"), (department, "/petitions/inbox/"), (officer, "/"), (department, "/")]
    for user, url in pages:
        client.force_login(user)
        html = client.get(url).content.decode()
        assert f"The calendar has no dates for {far_year} yet" in html, (user, url)
    Holiday.objects.create(date=dt.date(far_year, 1, 1), name="元旦")
    for user, url in pages:
        client.force_login(user)
        assert "no dates for" not in client.get(url).content.decode(), (user, url)


def test_a_petitioner_s_name_is_labelled_as_a_dispute_party_s_is(client, pet):
    """The same field, 姓名 in Chinese, was "Full name" for a petitioner and "Name" for a dispute's
    party: one word for it in English on the intake form and the petition page."""
    petition = pet.register()
    client.force_login(pet.cast.petition_officer)
    for url in ("/petitions/new/", f"/petitions/{petition.code}/"):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Full name" not in html, url
        assert "<th>Name</th>" in html or ">Name</label>" in html, url
    html = client.get(f"/petitions/{petition.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<th>姓名</th>" in html and 'data-label="姓名"' in html


def test_a_revealed_petitioners_phone_can_be_called_and_a_masked_one_cannot(client, pet):
    # The officer reveals a petitioner mostly to ring them back, and on a phone had to copy the
    # number out of the row by hand (the mediation page's parties already had the link).
    petition = pet.register()
    person = petition.petitioners.get()
    url = f"/petitions/{petition.code}/petitioners/{person.pk}/reveal/"
    client.force_login(pet.cast.petition_officer)
    page = client.get(f"/petitions/{petition.code}/").content.decode()
    assert person.masked_phone in page and "tel:" not in page  # a masked number is not dialled
    refused = client.post(url, {"reason": ""}, HTTP_HX_REQUEST="true").content.decode()
    assert "tel:" not in refused and not PersonalDataAccess.objects.exists()
    for headers in ({"HTTP_HX_REQUEST": "true"}, {}):  # the swapped row; the page without JavaScript
        html = client.post(url, {"reason": "电话回访"}, **headers).content.decode()
        cell = html.split('data-field="phone"', 1)[1].split("</td>", 1)[0]
        assert '<a href="tel:13812345678">13812345678</a>' in cell
    assert (
        PersonalDataAccess.objects.filter(user=pet.cast.petition_officer, record=petition.code).count() == 2
    )
    # A petitioner without a number has no link to nowhere.
    person.phone = ""
    person.save(update_fields=["phone"])
    html = client.post(url, {"reason": "核对住址"}, HTTP_HX_REQUEST="true").content.decode()
    assert "tel:" not in html and 'data-field="phone"' in html
    client.force_login(pet.cast.outsider)
    assert client.post(url, {"reason": "看看"}).status_code == 404
    assert PersonalDataAccess.objects.filter(user=pet.cast.outsider).count() == 0
