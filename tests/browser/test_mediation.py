"""A mediator's day in a real browser: open an assigned case, record a session, conclude it with a
written agreement, and open the A4 print view of the agreement in Chinese."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from mediation import services
from mediation.models import DisputeCase, MediationOrganisation, OrganisationMember
from tests.browser.conftest import facts_keep_their_width, login, screenshot

pytestmark = pytest.mark.browser

PARTIES = [{"role": "applicant", "name": "张三丰"}, {"role": "respondent", "name": "李四"}]


def _case(
    c, *, head=False, accept=True, parties=PARTIES, **fields
) -> tuple[MediationOrganisation, DisputeCase]:
    """A neighbours' case registered by ``c.mediator`` at a street centre of which the mediator is a
    member (its head if ``head``), accepted by them unless ``accept`` is false."""
    importlib.import_module("mediation.migrations.0002_default_categories").seed(apps, None)
    org = MediationOrganisation.objects.create(
        name="甲一街道人民调解委员会", kind=MediationOrganisation.Kind.STREET_CENTRE, area=c.street_a1
    )
    OrganisationMember.objects.create(organisation=org, user=c.mediator, is_head=head)
    fields.setdefault("description", "楼上漏水导致楼下天花板受损。")
    case = services.dispute_register(
        actor=c.mediator,
        category="neighbours",
        area=c.grid_a,
        origin="application",
        parties=parties,
        **fields,
    )
    if accept:
        case.transition(action="accept", actor=c.mediator)
    return org, case


def _conclude_with_a_written_agreement(c, case: DisputeCase) -> None:
    case.transition(action="start", actor=c.mediator)
    case.transition(
        action="conclude",
        actor=c.mediator,
        outcome="success_written",
        agreement_facts="楼上漏水，责任在李四",
        agreement_terms="李四赔偿张三丰维修费2000元",
        performance_method="银行转账",
        performance_due=timezone.localdate(),
        agreement_effective_on=timezone.localdate(),
    )


def test_a_mediator_records_a_session_concludes_with_an_agreement_and_prints_it(desktop_page, live_cast):
    c = live_cast
    _org, case = _case(
        c,
        parties=[
            {
                "role": "applicant",
                "name": "张三丰",
                "id_number": "11010519491231002X",
                "phone": "13812345678",
            },
            {"role": "respondent", "name": "李四", "phone": "13987654321"},
        ],
    )
    page = desktop_page

    login(page, "mediator")
    page.goto("/mediation/")
    page.click(f"a[href='/mediation/cases/{case.code}/']")
    page.wait_for_selector("#session-form")
    assert "张**" in page.inner_text(".med-parties") and "张三丰" not in page.content()

    page.fill("#id_place", "街道调解室")
    page.fill("#id_attendees", "张三丰、李四、调解员")
    page.fill("#id_summary", "双方陈述事实，李四同意承担维修费用。")
    page.fill("#id_next_step", "签订调解协议")
    page.click("#session-form button[type=submit]")
    page.wait_for_selector(".med-session")
    assert "双方陈述事实" in page.inner_text("#sessions")

    form = page.locator("form[data-action-form='conclude']")
    assert not form.locator("#terms").is_visible()  # fields appear with the outcome chosen
    form.locator("#outcome").select_option("success_oral")  # effective the day it is concluded
    assert form.locator("#terms").is_visible() and not form.locator("#effective").is_visible()
    assert (
        form.locator("#effective").is_disabled()
        and form.locator("input[name=other_routes]").first.is_disabled()
    )
    # What a written agreement must state is required of it alone (the record of an oral one: terms).
    required = "el => el.required"
    assert [form.locator(f).evaluate(required) for f in ("#facts", "#terms", "#method", "#perf-due")] == [
        False, True, False, False,
    ]  # fmt: skip
    form.locator("#outcome").select_option("success_written")
    assert form.locator("#effective").is_visible() and form.locator("#effective").is_enabled()
    assert all(form.locator(f).evaluate(required) for f in ("#facts", "#terms", "#method", "#perf-due"))
    form.locator("#facts").fill("李四家卫生间漏水致张三丰家天花板受损，李四负全部责任。")
    form.locator("#terms").fill("一、李四于十日内赔偿张三丰维修费人民币2000元；二、双方再无争议。")
    form.locator("#amount").fill("2000")
    form.locator("#method").fill("银行转账")
    form.locator("#perf-due").fill(timezone.localdate().isoformat())
    form.locator("button[data-action='conclude']").click()
    page.wait_for_selector("#print-agreement")
    case.refresh_from_db()
    assert case.status == "concluded" and case.outcome == "success_written" and case.confirmation_due
    screenshot(page, "mediation-case-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/mediation/")
    screenshot(page, "mediation-home-phone")
    page.goto(f"/mediation/cases/{case.code}/")
    screenshot(page, "mediation-case-phone")
    # The application for judicial confirmation: both parties apply together, or the court takes none.
    apply = page.locator("form[data-action-form='apply_confirmation']")
    if not apply.is_visible():
        apply.locator("xpath=ancestor::details/summary").click()
    apply.locator("button[data-action='apply_confirmation']").click()
    page.wait_for_selector("#joint[aria-invalid='true']")
    assert "共同申请" in page.inner_text("#joint-error")
    # The refused step answers 400, which Chromium logs as a console error: that one, nothing else.
    assert len(page.js_errors) == 1 and "status of 400" in page.js_errors[0], page.js_errors
    page.js_errors.clear()
    case.refresh_from_db()
    assert case.judicial_status == ""
    apply = page.locator("form[data-action-form='apply_confirmation']")
    apply.locator("#joint").check()
    screenshot(page, "mediation-apply-confirmation-phone")
    apply.locator("button[data-action='apply_confirmation']").click()
    page.wait_for_load_state()
    case.refresh_from_db()
    assert case.judicial_status == "applied" and case.judicial_applied_on == timezone.localdate()
    page.set_viewport_size({"width": 1366, "height": 768})

    page.click("#print-agreement")
    page.wait_for_selector("#agreement")
    text = page.inner_text("#agreement")
    assert "人民调解协议书" in text and "张三丰" in text and "人民币2000元" in text and "司法确认" in text
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible() and not page.locator("#print-button").is_visible()
    width = page.evaluate("document.getElementById('agreement').getBoundingClientRect().width")
    assert width > 0
    screenshot(page, "mediation-agreement-print")
    pdf = page.pdf(format="A4", print_background=False, prefer_css_page_size=True)
    assert pdf[:4] == b"%PDF" and len(pdf) > 2000
    page.emulate_media(media="screen")
    assert page.js_errors == []
    assert DisputeCase.objects.get(pk=case.pk).events.filter(action="conclude").exists()


def test_the_case_list_on_a_phone_keeps_chinese_columns_readable(phone_page, live_cast):
    """Chinese breaks after any character: without a floor on column widths the phone table squeezed
    every column but the number to one character a line. Each case is now a card of labelled values
    (table.stack), each at least half the card wide, and nothing scrolls sideways."""
    _case(
        live_cast,
        accept=False,
        description="邻居堆放杂物占用公共楼道引发矛盾。",
        risk_violence=True,
        parties=[
            {"role": "applicant", "name": "张三丰", "phone": "13812345678"},
            {"role": "respondent", "name": "李四", "phone": "13987654321"},
        ],
    )
    page = phone_page
    login(page, "mediator")
    page.goto("/mediation/cases/")
    widths = page.eval_on_selector_all(".med-table tbody td", "cells => cells.map(c => c.offsetWidth)")
    screenshot(page, "mediation-case-list-phone")
    assert widths and min(widths) >= 64, widths  # about four Chinese characters at 16 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".med-table").locator("xpath=..").evaluate("w => w.scrollWidth <= w.clientWidth")


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1366, "height": 768}])
def test_the_assigned_mediator_reaches_reveal_and_edit_without_scrolling_sideways(
    browser, live_server, live_cast, viewport
):
    """The parties table had six columns in a half-width card (a phone's whole width): Reveal and
    Edit sat past the right edge, reachable only by scrolling the table sideways. Each party is now
    a block of labelled fields with its buttons underneath, inside the card at any width."""
    from tests.browser.conftest import _new_page

    c = live_cast
    _org, case = _case(
        c,
        parties=[
            {
                "role": "applicant",
                "name": "张三丰",
                "id_number": "11010519491231002X",
                "phone": "13812345678",
                "address": "合肥市瑶海区长江东路一千二百三十四号幸福家园小区十二栋三单元",
            },
            {"role": "respondent", "name": "李四", "phone": "13987654321"},
        ],
    )
    context, page = _new_page(browser, live_server, viewport)
    try:
        login(page, "mediator")
        page.goto(f"/mediation/cases/{case.code}/")
        card = page.locator(".med-parties").locator("xpath=ancestor::section[1]").bounding_box()
        for summary in page.locator(".med-parties summary").all():
            box = summary.bounding_box()
            assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"], box
        wrap = page.locator(".med-parties").locator("xpath=..")
        assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth")  # nothing hidden to the right
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        # Each value says what it is once the column headings are gone.
        labels = page.eval_on_selector_all(
            f"#party-{case.parties.first().pk} td[data-field]",
            "cells => cells.map(c => getComputedStyle(c, '::before').content)",
        )
        assert '"身份证号"' in labels, labels
        screenshot(page, f"mediation-parties-{viewport['width']}")

        first = case.parties.first()
        page.click(f"#party-{first.pk} summary:has-text('查看完整信息')")
        page.fill(f"#reason-{first.pk}", "联系当事人安排调解")
        page.click(f"#party-{first.pk} button[type=submit]")
        page.wait_for_selector(f"#party-{first.pk}.med-revealed")
        assert "张三丰" in page.inner_text(f"#party-{first.pk}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert page.js_errors == []
    finally:
        context.close()


def test_the_head_reassigns_from_a_phone_without_scrolling_sideways(phone_page, live_cast):
    """On 390 px the organisation page's case table hid its last column, the head's Reassign form,
    past the right edge. Below 800 px each case is a block of labelled cells instead."""
    from governance.models import Role
    from tests.base import make_user

    c = live_cast
    org, case = _case(c, head=True, description="邻居堆放杂物占用公共楼道引发矛盾。")
    colleague = make_user("colleague", Role.MEDIATOR, c.street_a1)
    OrganisationMember.objects.create(organisation=org, user=colleague, is_head=False)
    page = phone_page
    login(page, "mediator")
    page.goto(f"/mediation/organisations/{org.pk}/")
    button = page.locator(f"form:has(#re-{case.code}) button[type=submit]")
    box = button.bounding_box()
    assert box["x"] + box["width"] <= 390, box
    wrap = page.locator(f"table.stack:has(#re-{case.code})").locator("xpath=..")
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "mediation-organisation-phone")
    page.select_option(f"#re-{case.code}", str(colleague.pk))
    button.click()
    page.wait_for_selector(".messages")
    case.refresh_from_db()
    assert case.mediator == colleague
    assert page.js_errors == []


def test_a_long_unbroken_note_does_not_push_the_case_page_sideways_on_a_phone(phone_page, live_cast):
    """A session summary or timeline note with a long URL or account number has no break point:
    the case page scrolled sideways to thousands of pixels on a phone."""
    import datetime as dt

    from django.utils import timezone

    c = live_cast
    _org, case = _case(c, received_at=timezone.now() - dt.timedelta(days=2))
    account = "6222021234567890123456789012345678901234567890"
    services.dispute_record_session(
        case=case,
        actor=c.mediator,
        held_at=timezone.now() - dt.timedelta(hours=1),
        place="https://meeting.example.org/" + "room" * 20,
        attendees="张三丰、李四",
        summary=f"赔偿款转入账户{account}{account}",
        next_step=account,
    )
    case.transition(action="extend", actor=c.mediator, consent=True, note=account * 2)
    page = phone_page
    login(page, "mediator")
    page.goto(f"/mediation/cases/{case.code}/")
    assert account in page.inner_text("#sessions")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.js_errors == []


def test_a_refused_conclusion_comes_back_filled_in_with_the_focus_on_the_bad_date(phone_page, live_cast):
    """A performance deadline before the agreement date came back with every field blank, the outcome
    reset and the reason in a banner at the top, screens above the form on a phone."""
    c = live_cast
    _org, case = _case(c, received_at=timezone.now() - dt.timedelta(days=10))
    case.transition(action="start", actor=c.mediator)
    page = phone_page
    login(page, "mediator")
    page.goto(f"/mediation/cases/{case.code}/")
    form = page.locator("form[data-action-form='conclude']")
    today = timezone.localdate()
    effective = (today - dt.timedelta(days=3)).isoformat()
    form.locator("#outcome").select_option("success_written")
    form.locator("#facts").fill("李四家漏水，李四负全部责任。")
    form.locator("#terms").fill("李四赔偿维修费2000元。")
    form.locator("#amount").fill("2000")
    form.locator("#method").fill("银行转账")
    form.locator("#effective").fill(effective)
    # The date picker is told the bound: not before the agreement takes effect.
    form.locator("#effective").dispatch_event("change")
    assert form.locator("#perf-due").evaluate("el => el.min") == effective
    # Past the browser's own check (min), as an old browser or a typed value would be.
    form.locator("#perf-due").evaluate("el => { el.min = ''; }")
    form.locator("#perf-due").fill((today - dt.timedelta(days=5)).isoformat())
    form.locator("button[data-action='conclude']").click()
    page.wait_for_selector("#action-error")
    form = page.locator("form[data-action-form='conclude']")
    assert form.locator("#outcome").input_value() == "success_written"
    assert (
        form.locator("#facts").is_visible()
        and form.locator("#facts").input_value() == "李四家漏水，李四负全部责任。"
    )
    assert form.locator("#terms").input_value() == "李四赔偿维修费2000元。"
    assert (
        form.locator("#method").input_value() == "银行转账"
        and form.locator("#effective").input_value() == effective
    )
    assert page.evaluate("document.activeElement.id") == "perf-due"
    # The server wrote "错误：" before the title; the script, which took the focus, did not add it again.
    assert page.title() == f"错误：{case.code} · 网格化服务管理", page.title()
    assert form.locator("#perf-due-error").is_visible()
    box = page.locator("#perf-due").bounding_box()
    assert box and 0 <= box["y"] <= 844, box  # on screen
    assert form.locator("#perf-due").evaluate("el => el.min") == effective
    assert DisputeCase.objects.get(pk=case.pk).status == "in_mediation"
    assert [e for e in page.js_errors if "status of 400" not in e] == []  # the refusal itself is a 400


def test_a_refused_reveal_is_announced_and_keeps_the_reason_in_the_focused_field(phone_page, live_cast):
    """The swapped row's refusal was a plain span after the button: nothing was announced, the reason
    typed was gone and the focus fell back to the top of the page. Now the field keeps the reason,
    is marked invalid, described by the alert, and has the focus; a reveal then goes through."""
    c = live_cast
    _org, case = _case(c)
    party = case.parties.get(role="applicant")
    page = phone_page
    login(page, "mediator")
    page.goto(f"/mediation/cases/{case.code}/")
    row, field = f"#party-{party.pk}", f"#reason-{party.pk}"
    page.click(f"{row} summary:has-text('查看完整信息')")
    page.fill(field, " 查")  # two characters for the browser, one once trimmed: the log refuses it
    page.click(f"{row} button[type=submit]")
    alert = page.locator(f"{row} [role=alert]")
    expect(alert).to_be_visible()
    expect(page.locator(field)).to_be_focused()
    assert page.input_value(field) == " 查"
    assert page.get_attribute(field, "aria-invalid") == "true"
    assert page.get_attribute(field, "aria-describedby") == alert.get_attribute("id")
    screenshot(page, "mediation-reveal-refused-phone")
    page.fill(field, "联系当事人安排调解")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{row}.med-revealed")
    expect(page.locator(f"{row} [data-swap-focus]")).to_be_focused()  # the focus stays in the row
    assert page.js_errors == []


def test_a_conclusion_with_a_bad_amount_and_no_terms_names_both_at_once(desktop_page, live_cast):
    """The browser's own check stopped at one field (the negative amount or the empty terms), and
    past it the form's refusal of the amount hid the missing terms until the next submit."""
    c = live_cast
    _org, case = _case(c)
    case.transition(action="start", actor=c.mediator)
    page = desktop_page
    login(page, "mediator")
    page.goto(f"/mediation/cases/{case.code}/")
    form = page.locator("form[data-action-form='conclude']")
    if form.locator("xpath=ancestor::details").get_attribute("open") is None:
        form.locator("xpath=ancestor::details/summary").click()
    form.locator("#outcome").select_option("success_oral")
    form.locator("#amount").fill("-5")
    form.locator("button[data-action='conclude']").click()
    page.wait_for_selector("#action-error")
    form = page.locator("form[data-action-form='conclude']")
    for element_id in ("amount", "terms"):
        assert form.locator(f"#{element_id}-error").is_visible(), element_id
        assert form.locator(f"#{element_id}").get_attribute("aria-invalid") == "true", element_id
    assert form.locator("#outcome").input_value() == "success_oral"
    assert form.locator("#amount").input_value() == "-5"
    assert DisputeCase.objects.get(pk=case.pk).status == "in_mediation"


def test_a_referrer_narrows_a_long_organisation_list_keeping_what_was_typed(phone_page, live_cast):
    """The register page offered a district referrer the first 300 organisations and no way to the
    rest. The filter's button posts the form back: what was typed stays, nothing is saved, and the
    organisation found is chosen and registered."""
    c = live_cast
    importlib.import_module("mediation.migrations.0002_default_categories").seed(apps, None)
    MediationOrganisation.objects.bulk_create(
        MediationOrganisation(
            name=f"春晖调解室{i:04d}", kind=MediationOrganisation.Kind.COMMITTEE, area=c.community_a1a
        )
        for i in range(305)
    )
    page = phone_page
    login(page, "district_officer")
    page.goto("/mediation/cases/new/")
    page.select_option("#id_category", "neighbours")
    page.fill("#id_area", c.grid_a.code)
    page.fill("#id_description", "楼上噪音扰民，双方多次争吵。")
    page.fill("#id_party0_name", "王五")
    page.fill("#id_party1_name", "赵六")
    page.fill("#id_org_q", "春晖调解室0304")
    page.press("#id_org_q", "Enter")  # the filter's button is the form's first: Enter narrows
    page.wait_for_load_state()
    expect(page.locator("#id_description")).to_have_value("楼上噪音扰民，双方多次争吵。")
    expect(page.locator("#id_party1_name")).to_have_value("赵六")
    # Made without members here: the list says nobody is there to take cases yet.
    assert page.locator("#id_organisation option").all_inner_texts()[1:] == [
        "春晖调解室0304（暂无可受理案件的调解员）"
    ]
    assert DisputeCase.objects.count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.select_option("#id_organisation", label="春晖调解室0304（暂无可受理案件的调解员）")
    page.click("form.med-form button.primary[type=submit]")
    page.wait_for_selector(".messages")
    assert DisputeCase.objects.get().organisation.name == "春晖调解室0304"
    assert page.js_errors == []


def test_the_case_list_fits_a_desktop_in_english(desktop_page, live_cast):
    """A status pill stayed on one line: "success: written agreement" beside the names kept whole
    (organisation, area, mediator) made the English list wider than a 1366 px screen, and the
    deadline column was cut off at the right edge, its scrollbar at the foot of the list."""
    c = live_cast
    c.mediator.display_name = "调解员 刘娜梅"
    c.mediator.save(update_fields=["display_name"])
    org, case = _case(
        c,
        parties=[
            {"role": "applicant", "name": "谢德明"},
            {"role": "respondent", "name": "谢建"},
            {"role": "other", "name": "韩秀英"},
        ],
    )
    org.name = "甲一区医疗纠纷人民调解委员会"
    org.save(update_fields=["name"])
    c.grid_a.name = "桂花社区1第1网格"
    c.grid_a.save(update_fields=["name"])
    _conclude_with_a_written_agreement(c, case)
    page = desktop_page
    login(page, "mediator")
    page.goto("/mediation/cases/")
    page.click("button[name=language][value=en]")
    page.wait_for_selector("html[lang=en]")
    assert "Success: written agreement" in page.inner_text(".med-table")
    screenshot(page, "mediation-case-list-desktop-en")
    assert page.locator(".med-table").locator("xpath=..").evaluate("w => w.scrollWidth <= w.clientWidth")
    assert page.js_errors == [], page.js_errors


def test_a_concluded_case_in_english_on_a_phone_keeps_its_facts_readable(phone_page, live_cast, live_server):
    """In English the longest label ("Facts and responsibilities") set the width of the whole label
    column, leaving the values a strip of a third of a phone: the area's code broke inside the number
    (3401020010010 / 03), a referral number and the dates over two lines. The labels wrap instead,
    within at most 40% of the list, and a code stays whole."""
    c = live_cast
    _org, case = _case(c, received_at=timezone.now() - dt.timedelta(days=5))
    _conclude_with_a_written_agreement(c, case)
    page = phone_page
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    login(page, "mediator")
    page.goto(f"/mediation/cases/{case.code}/")
    facts_keep_their_width(page, "dl.med-facts", "Facts and responsibilities", c.grid_a.code)
    screenshot(page, "mediation-case-facts-390-en")
    assert page.js_errors == []
