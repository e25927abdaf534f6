"""The Chinese of the messages Django and DRF write themselves (locale/vendor overrides their zh_Hans
catalogues where those read like a programmer's: "确保该变量包含不超过 100 字符", "输入整数。", "请填写合法的
整数值。"), on the platform's own forms and endpoints, and the vendor catalogue read as a translator
would hand it over."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from governance.models import Department
from petitions.models import Petition
from tests.base import PASSWORD, api_client, post_area_change
from tests.petitions.test_api import payload
from tests.petitions.test_pages import intake_data

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale"
VENDOR = polib.pofile(str(LOCALE / "vendor" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
PROJECT = {
    (e.msgctxt, e.msgid): e for e in polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
}

# The stock wordings these replace: none may reach a Chinese page again.
STOCK = ["该变量", "输入一个", "选择一个有效的选项", "请填写合法的", "请确保这个字段"]


def test_the_intake_page_words_django_s_own_errors_for_a_resident_facing_officer(client, cast):
    client.force_login(cast.petition_officer)
    data = intake_data(
        cast, persons_count="两", p0_name="王" * 101, channel="pigeon", received_at="2026-13-01T09:00"
    )
    response = client.post("/petitions/new/", data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["persons_count"] == ["请输入整数。"]
    assert errors["p0_name"] == ["最多 100 个字，现有 101 个字。"]
    assert errors["channel"] == ["“pigeon”不在可选范围内，请重新选择。"]
    assert errors["received_at"] == ["请输入有效的日期和时间。"]
    html = response.content.decode()
    assert "请输入整数。" in html and "最多 100 个字，现有 101 个字。" in html
    assert not [s for s in STOCK if s in html]
    assert not Petition.objects.exists()


def test_the_intake_page_bounds_a_number_in_chinese_words(client, cast):
    client.force_login(cast.petition_officer)
    response = client.post(
        "/petitions/new/", intake_data(cast, persons_count="0"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 400
    assert response.context["form"].errors["persons_count"] == ["此项不能小于 1。"]
    assert not Petition.objects.exists()


def test_the_api_words_drf_s_own_errors_as_the_pages_do(cast):
    client = api_client(cast.petition_officer)
    rows = [{"name": "王" * 101, "id_number": "", "phone": "", "address": ""}]
    data = payload(cast, channel="pigeon", persons_count="两", content="", petitioners=rows)
    response = client.post("/api/v1/petitions/", data, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400, response.content
    body = response.json()
    errors = body["errors"]
    assert errors["channel"] == ["“pigeon”不是有效的选项。"]
    assert errors["persons_count"] == ["请输入有效的整数。"]
    assert errors["content"] == ["此项不能为空。"]
    assert errors["petitioners[0].name"] == ["最多 100 个字。"]
    assert "最多 100 个字。" in body["detail"]
    assert not [s for s in STOCK if s in response.content.decode()]
    assert not Petition.objects.exists()


def test_the_api_asks_for_credentials_in_chinese_words(cast):
    response = api_client().get("/api/v1/areas/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 401
    assert response.json()["detail"] == "未提供身份认证信息。"


def test_the_password_change_form_addresses_its_reader_as_nin(client, cast):
    client.force_login(cast.analyst)
    client.cookies["django_language"] = "zh-hans"
    url = reverse("governance-password-change")
    wrong = client.post(url, {"old_password": "nope", "new_password1": "a", "new_password2": "a"})
    assert wrong.status_code == 400
    assert wrong.context["form"].errors["old_password"] == ["您的旧密码不正确，请重新输入。"]
    new = "1234567890"
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new + "1"})
    assert weak.context["form"].errors["new_password2"] == ["两次输入的密码不一致。"]
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert weak.status_code == 400
    assert set(weak.context["form"].errors["new_password2"]) >= {"此密码过于常见。", "此密码全部是数字。"}
    cast.analyst.refresh_from_db()
    assert cast.analyst.check_password(PASSWORD)


def _placeholders(text: str) -> Counter:
    """%-style (``%(name)s``, ``%d``) and str.format-style (``{name}``, ``{code_point:X}``) fields."""
    percent = re.findall(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]", text)
    braces = re.findall(r"\{[^{}]*\}", text)
    return Counter(percent + braces)


def _translations(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


# django-celery-beat's "run" message: its {1} and {2} are the English plural pieces, which Chinese has no
# place for (str.format ignores fields a translation leaves out; an unknown one would raise).
DROPPED = {"{0} task{1} {2} successfully run": Counter({"{0}": 1})}


def test_every_vendor_translation_keeps_its_msgid_s_placeholders():
    """A misspelt or missing placeholder raises KeyError or TypeError where the message is formatted:
    a 500 instead of a field's error."""
    wrong = [
        (e.msgid, s)
        for e in VENDOR
        for s in _translations(e)
        if _placeholders(s)
        not in (_placeholders(e.msgid), _placeholders(e.msgid_plural), DROPPED.get(e.msgid))
    ]
    assert wrong == []
    # %-style ones are flagged, so that msgfmt (compilemessages) checks them too.
    unflagged = [
        e.msgid for e in VENDOR if "%" in "".join(_placeholders(e.msgid)) and "python-format" not in e.flags
    ]
    assert unflagged == []


def test_the_vendor_catalogue_is_complete_and_addresses_its_reader_as_nin():
    left = [e.msgid for e in VENDOR if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert left == []
    assert [e.msgid for e in VENDOR if any("你" in s for s in _translations(e))] == []
    assert [e.msgid for e in VENDOR if any(s in t for s in STOCK for t in _translations(e))] == []


def test_every_vendor_translation_is_the_one_a_chinese_page_shows():
    """The vendor catalogue comes after the project's in LOCALE_PATHS and before the packages' own:
    each of its messages is shown as written there, unless the project's catalogue has the same
    msgid (then the two must agree, or the vendor's word would silently not be used)."""
    differing = []
    with translation.override("zh-hans"):
        for e in VENDOR:
            if e.msgid_plural:
                shown = (
                    [translation.npgettext(e.msgctxt, e.msgid, e.msgid_plural, 1)]
                    if e.msgctxt
                    else [translation.ngettext(e.msgid, e.msgid_plural, 1)]
                )
            else:
                shown = [
                    translation.pgettext(e.msgctxt, e.msgid) if e.msgctxt else translation.gettext(e.msgid)
                ]
            if shown != _translations(e):
                differing.append((e.msgid, shown))
            own = PROJECT.get((e.msgctxt, e.msgid))
            if own is not None and _translations(own) != _translations(e):
                differing.append((e.msgid, "project", _translations(own)))
    assert differing == []


def test_the_admin_s_sign_in_error_says_the_fields_may_be_case_sensitive_not_that_they_are(client, cast):
    client.cookies["django_language"] = "zh-hans"
    response = client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    assert "请输入工作人员账号的正确用户名和密码。请注意，两者都可能区分大小写。" in response.content.decode()


# --- django-filter, the admin's pages, the CSRF failure page -------------------------------------------


def _catalogue(package: str, path: str) -> polib.POFile:
    module = __import__(package)
    return polib.pofile(str(Path(module.__file__).resolve().parent / path))


def test_django_filter_s_own_words_read_in_chinese():
    """django-filter ships zh_CN only, which zh-hans does not pick up: its help text, labels and
    errors read in English on a Chinese page or schema unless the vendor catalogue has them."""
    stock = _catalogue("django_filters", "locale/zh_CN/LC_MESSAGES/django.po")
    msgids = [e.msgid for e in stock if not e.obsolete]
    assert (
        "Range query expects two values." in msgids
        and "Multiple values may be separated by commas." in msgids
    )
    with translation.override("zh-hans"):
        shown = {m: translation.gettext(m) for m in msgids}
    assert [m for m, s in shown.items() if not re.search(r"[\u4e00-\u9fff]", s)] == []
    assert shown["Range query expects two values."] == "请输入范围的起止两个值。"
    assert shown["week day"] == "星期几"  # not zh_CN's 工作日, "working day"


def test_the_schema_describes_a_comma_separated_filter_in_chinese(cast):
    response = api_client(cast.analyst).get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    params = response.json()["paths"]["/api/v1/areas/"]["get"]["parameters"]
    code = next(p for p in params if p["name"] == "code")
    assert code["description"] == "可填多个值，以英文逗号分隔。"
    assert "Multiple values" not in response.content.decode()


def test_the_admin_s_daily_pages_address_the_administrator_as_nin(client, cast):
    client.cookies["django_language"] = "zh-hans"
    login = client.get("/admin/login/")
    pages = {"login": login}
    client.force_login(cast.admin)
    area = cast.grid_d
    spare = Department.objects.create(name="临时专班", area=cast.district_a)
    for name, url in {
        "index": "/admin/",
        "changelist": "/admin/governance/area/",
        "change form": f"/admin/governance/area/{area.pk}/change/",
        "user add form": "/admin/governance/user/add/",
        "history": f"/admin/governance/area/{area.pk}/history/",
        "delete confirmation": f"/admin/governance/department/{spare.pk}/delete/",
        "password change": "/admin/password_change/",
        "password change done": "/admin/password_change/done/",
        "a user's password": f"/admin/governance/user/{cast.analyst.pk}/password/",
    }.items():
        pages[name] = client.get(url)
    saved, _form = post_area_change(client, area, _continue="1")
    assert saved.status_code == 302
    pages["saved"] = client.get(saved["Location"])
    pages["logged out"] = client.post("/admin/logout/", follow=True)
    assert {name: r.status_code for name, r in pages.items()} == dict.fromkeys(pages, 200)
    html = {name: r.content.decode() for name, r in pages.items()}
    assert {name: text.count("你") for name, text in html.items()} == dict.fromkeys(pages, 0)
    assert "密码已修改。" in html["password change done"]  # the platform's own wording
    assert "您可以在下方继续编辑。" in html["saved"]
    assert "您确定要删除" in html["delete confirmation"]


# Left in Django 5.2's zh_Hans catalogues though no template or module of 5.2 uses them any more (the
# delete page's title is now "Delete"; the user add form says "After you’ve created a user, …").
UNUSED = {
    "Are you sure?",
    "First, enter a username and password. Then, you’ll be able to edit more user options.",
}


def test_every_admin_and_auth_message_addresses_the_reader_as_nin():
    """The admin's messages that Django's zh_Hans catalogue words with 你 (delete confirmations, the
    saved messages, the password pages and e-mail): what a Chinese page shows says 您."""
    entries = [
        e
        for package, path in [
            ("django", "contrib/admin/locale/zh_Hans/LC_MESSAGES/django.po"),
            ("django", "contrib/auth/locale/zh_Hans/LC_MESSAGES/django.po"),
            ("django", "conf/locale/zh_Hans/LC_MESSAGES/django.po"),
        ]
        for e in _catalogue(package, path)
        if any("你" in t for t in _translations(e)) and e.msgid not in UNUSED
    ]
    assert len(entries) > 10
    with translation.override("zh-hans"):
        shown = {
            e.msgid: translation.ngettext(e.msgid, e.msgid_plural, 1)
            if e.msgid_plural
            else translation.gettext(e.msgid)
            for e in entries
        }
    assert {m: s for m, s in shown.items() if "你" in s or s == m} == {}


def test_a_form_posted_with_a_stale_token_says_what_to_do_in_chinese(cast):
    from django.test import Client

    officer = Client(enforce_csrf_checks=True)
    officer.force_login(cast.petition_officer)
    officer.cookies["django_language"] = "zh-hans"
    response = officer.post("/petitions/new/", intake_data(cast))
    assert response.status_code == 403
    html = response.content.decode()
    assert "页面停留过久或登录状态已变化，本次提交未被接受，内容没有保存。" in html
    assert "请返回表单页面并刷新，然后重新填写并提交。" in html
    assert "CSRF" not in html and "DEBUG" not in html and "你" not in html
    assert not Petition.objects.exists()
    officer.cookies["django_language"] = "en"
    english = officer.post("/petitions/new/", intake_data(cast)).content.decode()
    assert "Go back to the form and reload it, then fill it in and submit it again." in english
