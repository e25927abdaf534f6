"""The zh-Hans catalogues, read as a translator would hand them over."""

from pathlib import Path

import polib
from django.conf import settings

CATALOGUES = sorted((Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES").glob("*.po"))


def test_there_are_catalogues_to_read():
    assert [p.name for p in CATALOGUES] == ["django.po"]


def test_every_message_has_a_checked_chinese_translation():
    """A message left empty shows English on a Chinese page; a fuzzy one (makemessages' guess from a
    similar message) is not used by gettext at all."""
    left = [
        (p.name, e.msgid)
        for p in CATALOGUES
        for e in polib.pofile(str(p))
        if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)
    ]
    assert left == []


def test_the_chinese_ui_addresses_its_reader_as_nin():
    """您, never 你: the incident notices told a department "已派遣给你单位办理"."""
    familiar = [
        (p.name, e.msgid)
        for p in CATALOGUES
        for e in polib.pofile(str(p))
        if not e.obsolete and any("你" in s for s in [e.msgstr, *e.msgstr_plural.values()])
    ]
    assert familiar == []
