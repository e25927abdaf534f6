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

from petitions.models import Petition
from tests.base import PASSWORD, api_client
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
