"""One sweep for the English colon in Chinese pages.

Page by page, a label joined to its value with a hard-coded English ': ' kept turning up on zh-Hans
pages ('参加人员: …', '事件: 13', '月份: 请按…'). Every role of the authorization matrix's cast, the
administrator and an anonymous visitor GET every page (the admin site too) in Chinese, and POST every
page empty so that its form's errors show (the answer, or the page it leads to with its message):
nowhere may a Chinese character or a closing Chinese bracket be followed by an ASCII colon in the text
a reader sees. The pages show the records of the matrix's world (one of each kind, an agreement
concluded): a label shown only for other data is read where that page's own tests put it there.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests.reliability.test_authorization_matrix import ROLES, _kwargs, _routes, world  # noqa: F401

# A CJK character or a closing CJK bracket or quote, then an ASCII colon on the same line.
ENGLISH_COLON = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff）」』】》〉”][ \t]*:")
SKIPPED = {"script", "style", "code", "kbd", "samp", "pre", "textarea", "template"}
BLOCKS = {
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "input", "label", "legend", "li", "main", "nav", "ol", "option", "p", "section", "select",
    "summary", "table", "td", "th", "tr", "ul",
}  # fmt: skip
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}


class _Text(HTMLParser):
    """The text a reader sees (inline elements joined, blocks on their own lines) and the words of
    the attributes that a screen reader or a tooltip reads out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self.skipping += 1
        if tag in BLOCKS:
            self.parts.append("\n")
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES or (name == "value" and tag == "button")):
                self.parts.append(f"\n{value}\n")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in SKIPPED:
            self.skipping -= 1

    def handle_endtag(self, tag):
        if tag in SKIPPED and self.skipping:
            self.skipping -= 1
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def english_colons(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.parts)
    hits = []
    for match in ENGLISH_COLON.finditer(text):
        start = max(text.rfind("\n", 0, match.start()) + 1, match.start() - 20)
        end = text.find("\n", match.end())
        hits.append(text[start : min(end if end >= 0 else len(text), match.end() + 20)].strip())
    return hits


def test_the_sweep_sees_an_english_colon_after_chinese_text_and_nothing_else():
    html = (
        "<p>参加人员: 双方当事人</p><p><strong>事件</strong>: 13</p><p>（已延期）:</p>"
        "<p>时间 12:30</p><a href='http://x/'>链接</a><script>var a = '事件: 1'</script>"
        "<code>区号:0551</code><p>参加人员：双方</p><p title='月份: 请按'>x</p>"
    )
    assert english_colons(html) == ["参加人员: 双方当事人", "事件: 13", "（已延期）:", "月份: 请按"]


READ: list[str] = []  # the pages read whole (200), so that a sweep that reads nothing fails


def _get(client: Client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code < 500, (url, response.status_code)
    if response.streaming or "html" not in response.get("Content-Type", ""):
        return ""
    if response.status_code == 200:
        READ.append(url)
    return response.content.decode()


def _pages(w) -> list[str]:
    urls = []
    for name, route, converters in _routes():
        if route.startswith("api/"):
            continue
        urls.append(reverse(name, kwargs=_kwargs(name, converters, w, "in")) if converters else reverse(name))
    accounts = ["governance-account", "governance-password-change", "governance-logout"]
    return urls + [reverse(name) for name in accounts]


def _admin_pages(w) -> list[str]:
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        for view in ("changelist", "add"):
            try:
                urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}"))
            except NoReverseMatch:
                continue
        first = model_admin.get_queryset(_Request(w.cast.admin)).order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
            for view in ("history", "delete"):
                try:
                    urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[first.pk]))
                except NoReverseMatch:
                    continue
        urls.append(reverse("admin:app_list", args=[opts.app_label]))
    urls.append(reverse("admin:auth_user_password_change", args=[w.cast.worker_a.pk]))
    return sorted(set(urls))


class _Request:
    def __init__(self, user):
        self.user = user
        self.GET = {}


def _with_errors(client: Client, pages: list[str]) -> list[tuple[str, str]]:
    """Every page's form sent empty (a sign-out and a token's revocation left out: the first would
    end the visit, the second changes nothing on a page): each field's error joins its label."""
    answers = []
    for url in pages:
        if url in (reverse("governance-logout"), reverse("governance-account-token-revoke")):
            continue
        response = client.post(url, {}, HTTP_ACCEPT_LANGUAGE="zh-hans", follow=True)  # and its message
        assert response.status_code < 500, (url, response.status_code)
        if not response.streaming and "html" in response.get("Content-Type", ""):
            answers.append((url, response.content.decode()))
    return answers


def _a_case_in_mediation_with_a_session(w) -> str:
    """A case page with the lines the world's concluded case lacks: a session, its attendees and
    its next step ('参加人员: …' and '下一步安排: …' were found there)."""
    from django.utils import timezone

    from mediation import services as med_services

    mediator = w.cast.mediator
    case = med_services.dispute_register(
        actor=mediator,
        category="neighbours",
        area=w.cast.grid_a,
        origin="application",
        description="噪音纠纷",
        parties=[
            {"role": "applicant", "name": "甲", "phone": "13800000001", "address": "某路3号"},
            {"role": "respondent", "name": "乙", "phone": "13800000002", "address": "某路4号"},
        ],
        organisation=w.org["in"],
    )
    case.transition(action="accept", actor=mediator, mediator=mediator.pk)
    case.transition(action="start", actor=mediator)
    med_services.dispute_record_session(
        case=case,
        actor=mediator,
        held_at=timezone.now(),
        place="街道调解室",
        attendees="双方当事人",
        summary="双方陈述。",
        next_step="下周签协议",
    )
    return reverse("mediation-case", kwargs={"code": case.code})


def test_no_chinese_page_joins_a_label_to_its_value_with_an_english_colon(world):  # noqa: F811
    from tests.reliability.test_authorization_matrix import _conclude_with_an_agreement

    _conclude_with_an_agreement(world)  # so that the agreement and its printout render
    found: dict[str, list[str]] = {}
    READ.clear()
    pages = [*_pages(world), _a_case_in_mediation_with_a_session(world)]
    for role in [*ROLES, "admin"]:
        client = Client()
        client.force_login(getattr(world.cast, role))
        for url in pages:
            for hit in english_colons(_get(client, url)):
                found.setdefault(hit, []).append(f"{role} {url}")
        for url, html in _with_errors(client, pages):
            for hit in english_colons(html):
                found.setdefault(hit, []).append(f"{role} POST {url}")
    admin_client = Client()
    admin_client.force_login(world.cast.admin)
    admin_pages = _admin_pages(world)
    assert len(admin_pages) >= 20, admin_pages
    for url in admin_pages:
        for hit in english_colons(_get(admin_client, url)):
            found.setdefault(hit, []).append(f"admin {url}")
    anonymous = Client()
    for url in (reverse("governance-login"),):
        for hit in english_colons(_get(anonymous, url)):
            found.setdefault(hit, []).append(f"anonymous {url}")
        response = anonymous.post(url, {"username": "", "password": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        for hit in english_colons(response.content.decode()):
            found.setdefault(hit, []).append(f"anonymous {url} (errors)")
    assert len(READ) >= 300 and len(set(READ)) >= 100, (len(READ), len(set(READ)))
    assert not found, "\n".join(f"{hit!r}: {where[:3]}" for hit, where in found.items())


def test_the_admins_delete_page_names_each_object_with_the_readers_colon(client, cast):
    """Django builds each line of the list of what a deletion takes ("区域: 乙区") in its own code."""
    client.force_login(cast.admin)
    html = client.get(
        reverse("admin:governance_area_delete", args=[cast.district_b.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "区域：<a " in html and "区域: " not in html
    english = client.get(reverse("admin:governance_area_delete", args=[cast.district_b.pk])).content.decode()
    assert "Area: <a " in english
    selected = client.post(
        reverse("admin:governance_area_changelist"),
        {"action": "delete_selected", "_selected_action": [cast.district_b.pk]},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert "区域：<a " in selected and "区域: " not in selected
