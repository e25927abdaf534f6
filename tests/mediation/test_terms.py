"""One word for each step in the Chinese mediation pages: 结案 is the close step and its status
(已结案, 结案日期), 终结 the conclusion (调解终结, 终结日期). The list's filters read "结案日期起" for the
day of conclusion, beside a status "已结案" that is another step, and the indicators counted
"结案" cases that had only been concluded."""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _mediation_entries():
    for e in polib.pofile(str(PO)):
        paths = [path for path, _ in e.occurrences]
        if e.obsolete or not paths or not all("mediation" in p for p in paths):
            continue
        yield e, " ".join([e.msgstr, *e.msgstr_plural.values()])


def test_a_conclusion_is_never_called_a_closing_in_the_mediation_pages():
    wrong = [
        e.msgid
        for e, zh in _mediation_entries()
        if "conclu" in (e.msgid + (e.msgid_plural or "")).lower()
        and "close" not in (e.msgid + (e.msgid_plural or "")).lower()
        and "结案" in zh
    ]
    assert wrong == []


def test_closing_is_never_called_a_conclusion_in_the_mediation_pages():
    wrong = [
        e.msgid
        for e, zh in _mediation_entries()
        if "close" in e.msgid.lower() and "conclu" not in e.msgid.lower() and "终结" in zh
    ]
    assert wrong == []


def test_the_list_filters_name_the_day_of_conclusion(client, med):
    client.force_login(med.head_x)
    url = "/mediation/cases/?concluded_from=2026-01-01&concluded_to=2026-12-31"
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "终结日期起：2026-01-01" in html and "终结日期止：2026-12-31" in html and "结案日期" not in html
    response = client.get("/mediation/cases/?concluded_from=x", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert 'id="filter-error">终结日期起：' in response.content.decode()
    client.force_login(med.cast.outsider)
    assert med.register().code not in client.get("/mediation/cases/").content.decode()
