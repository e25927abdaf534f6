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


def test_every_compiled_catalogue_is_compiled_from_its_text():
    """gettext reads the .mo, reviewers read the .po: a merge that kept one side's .mo (binary, so
    git cannot merge it) left dozens of translations in the text and none on the pages."""

    def translations(catalogue, compiled: bool) -> dict:
        # msgfmt leaves out what is untranslated or fuzzy: the .mo holds the rest.
        return {
            (e.msgctxt, e.msgid): e.msgstr or {int(k): v for k, v in e.msgstr_plural.items()}
            for e in catalogue
            if e.msgid and (compiled or (not e.obsolete and e.translated()))
        }

    root = Path(settings.BASE_DIR) / "locale"
    texts = sorted(root.glob("*/LC_MESSAGES/*.po")) + sorted(root.glob("vendor/*/LC_MESSAGES/*.po"))
    stale = [
        str(p.relative_to(root))
        for p in texts
        if p.with_suffix(".mo").exists()
        and translations(polib.pofile(str(p)), False)
        != translations(polib.mofile(str(p.with_suffix(".mo"))), True)
    ]
    assert len(texts) >= 4 and stale == []
