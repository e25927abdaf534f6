"""One sweep for Chinese the platform itself writes on English pages.

The interface is Chinese-first: a string left out of gettext, a choice label stored in Chinese or a
message built from a Chinese literal shows up on an English page as Chinese the reader cannot read.
Every role of the authorization matrix's cast, the administrator and an anonymous visitor GET every
page (the admin site too) in English, and POST every page empty so that its form's errors show. Chinese
may appear only where the page shows the world's own records (an area's name, a department, a case's
description: any text stored in the database, or configured in settings), where the English text
quotes Chinese on purpose (a msgid that holds Chinese: the column names a Chinese spreadsheet uses),
or inside an element marked lang="zh-…" (the switch to 中文, the mediation agreement, which is a
Chinese legal document whatever the interface language).
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.db import models
from django.test import Client
from django.urls import reverse

from dashboards import intake
from tests.reliability.test_authorization_matrix import ROLES, world  # noqa: F401
from tests.reliability.test_readers_colon import (
    _a_case_in_mediation_with_a_session,
    _admin_pages,
    _pages,
    _Text,
)

CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _EnglishText(_Text):
    """The text a reader sees and the attributes read out, leaving out what is marked Chinese."""

    def __init__(self):
        super().__init__()
        self.chinese: list[str] = []  # the open elements from the one marked lang="zh-…" down

    def handle_starttag(self, tag, attrs):
        if self.chinese or (dict(attrs).get("lang") or "").lower().startswith("zh"):
            if tag not in VOID:
                self.chinese.append(tag)
        else:
            super().handle_starttag(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        if not self.chinese:
            super().handle_startendtag(tag, attrs)

    def handle_endtag(self, tag):
        if not self.chinese:
            super().handle_endtag(tag)
        elif tag in self.chinese:
            del self.chinese[len(self.chinese) - 1 - self.chinese[::-1].index(tag) :]

    def handle_data(self, data):
        if not self.chinese:
            super().handle_data(data)


def chinese_lines(html: str, allowed: str) -> list[str]:
    """Each line of the page's English text holding Chinese that is not among the allowed words."""
    parser = _EnglishText()
    parser.feed(html)
    return [
        line.strip()
        for line in "".join(parser.parts).splitlines()
        if any(run not in allowed for run in CHINESE.findall(line))
    ]


def test_the_sweep_sees_chinese_the_page_wrote_and_not_the_records_or_the_marked():
    html = (
        "<p>Area: 甲区</p><p>状态: Open</p><p title='请选择'>x</p><button lang='zh-hans'>中文</button>"
        "<article lang='zh-Hans'><h1>人民调解协议书</h1><p>编号<br>：1</p></article><p>Saved 已保存</p>"
        "<code>区域代码</code><script>var a = '事件'</script>"
    )
    assert chinese_lines(html, allowed="甲区\n") == ["状态: Open", "请选择", "Saved 已保存"]


# Chinese a page writes on purpose outside an element it can mark: the agreement printout's title,
# which names the saved PDF (mediation/agreement.html), and the answers a Chinese questionnaire
# gives that the import page lists beside their codes (dashboards.intake).
DELIBERATE = ["人民调解协议书", "人民调解口头协议登记", *intake.DONT_KNOW_LABELS]


def _allowed_words() -> str:
    """The world's stored text, the settings' configured words and the Chinese the msgids quote."""
    words: list[str] = []
    for model in apps.get_models():
        fields = [
            f.name for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField))
        ]
        if fields:
            for row in model.objects.values_list(*fields):
                words.extend(str(value) for value in row if value)
    words.extend(repr(getattr(settings, name)) for name in dir(settings) if name.isupper())
    catalogue = polib.pofile(str(Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    words.extend(e.msgid for e in catalogue if CHINESE.search(e.msgid))
    return "\n".join([*words, *DELIBERATE])


READ: list[str] = []  # the pages read whole (200), so that a sweep that reads nothing fails


def _english(client: Client, url: str, data: dict | None = None) -> str:
    if data is None:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    else:
        response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en", follow=True)  # and its message
    assert response.status_code < 500, (url, response.status_code)
    if response.streaming or "html" not in response.get("Content-Type", ""):
        return ""
    if response.status_code == 200 and data is None:
        READ.append(url)
    return response.content.decode()


def test_no_english_page_shows_chinese_other_than_the_records_own_words(world):  # noqa: F811
    from tests.reliability.test_authorization_matrix import _conclude_with_an_agreement

    _conclude_with_an_agreement(world)  # so that the agreement and its printout render
    pages = [*_pages(world), _a_case_in_mediation_with_a_session(world)]
    unsent = {reverse("governance-logout"), reverse("governance-account-token-revoke")}
    answers: list[tuple[str, str]] = []
    READ.clear()
    for role in [*ROLES, "admin"]:
        client = Client()
        client.force_login(getattr(world.cast, role))
        answers += [(f"{role} {url}", _english(client, url)) for url in pages]
        answers += [(f"{role} POST {url}", _english(client, url, {})) for url in pages if url not in unsent]
    admin_client = Client()
    admin_client.force_login(world.cast.admin)
    answers += [(f"admin {url}", _english(admin_client, url)) for url in _admin_pages(world)]
    anonymous = Client()
    login = reverse("governance-login")
    answers.append((f"anonymous {login}", _english(anonymous, login)))
    answers.append((f"anonymous POST {login}", _english(anonymous, login, {"username": "", "password": ""})))
    assert len(READ) >= 300 and len(set(READ)) >= 100, (len(READ), len(set(READ)))
    allowed = _allowed_words()  # after the sweep: the records its own posts wrote are the world's too
    found: dict[str, list[str]] = {}
    for where, html in answers:
        for line in chinese_lines(html, allowed):
            found.setdefault(line, []).append(where)
    assert not found, "\n".join(f"{line!r}: {where[:3]}" for line, where in found.items())
