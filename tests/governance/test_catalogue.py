"""The zh-Hans catalogues, read as a translator would hand them over."""

import re
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


def _chinese_messages():
    """(msgctxt, msgid, msgstr) of every live zh-Hans message, plural forms included."""
    for p in CATALOGUES:
        for e in polib.pofile(str(p)):
            if e.obsolete or not e.msgid:
                continue
            for s in [e.msgstr, *e.msgstr_plural.values()]:
                yield e.msgctxt, e.msgid, s


# One concept, one Chinese term. Each variant here was found in the catalogue beside the term that
# replaced it, for the same concept on a neighbouring page (DOMAIN.md names the workflow terms).
RETIRED_VARIANTS = {
    "超期": "逾期: overdue is 逾期 on every page (the department table said 超期, the inbox 逾期)",
    "超时": "逾期: a step done late is 逾期, as in the filters and notices",
    "协办单位": "协办部门: supporting departments are departments (Department), as in the API and the page",
    "主办单位": "主办部门: the lead department, as 协办部门",
    "牵头部门": "主办部门: the lead department has one name",
    "本单位": "本部门: a department user's own department, as 本部门 elsewhere",
    "您所在单位": "您所在部门: the notices to a department",
    "我的账户": "我的账号: an account is 账号 everywhere else (临时密码、账号)",
    "显示完整信息": "查看完整信息: the reveal control says what the explanations beside it say",
    "地区": "区域: an area is 区域 (区划 for division codes and the statistics' administrative divisions)",
    "等级": "等次: assessment grades are 等次 (优秀/良好/合格/不合格)",
}


def test_no_message_uses_a_retired_variant_of_a_fixed_term():
    found = [
        (variant, msgid)
        for _, msgid, s in _chinese_messages()
        for variant in RETIRED_VARIANTS
        if variant in s
    ]
    assert found == []


def test_a_transfer_between_mediation_organisations_is_yijiao_and_a_referral_yisong():
    """移交 hands a case to another organisation; 移送 is how a case arrives from police, court or
    petition office (委托移送). "请移送至…" and "移送前已延期" described a transfer."""
    transfers = [s for ctx, msgid, s in _chinese_messages() if "transfer" in msgid.lower() and "移送" in s]
    referrals = [
        msgid for ctx, msgid, s in _chinese_messages() if msgid.startswith("referred by ") and "移送" in s
    ]
    assert transfers == [] and len(referrals) >= 2


def test_the_panel_of_actions_is_banli_caozuo_and_a_sessions_plan_xiayibu_anpai():
    """ "Next step" meant two things: the panel of what the reader can do now (incidents, dispute
    cases; petitions call it "Next steps") and the plan a mediator writes after a session."""
    by_key = {(ctx, msgid): s for ctx, msgid, s in _chinese_messages()}
    assert by_key[("the actions a user can take now", "Next step")] == "办理操作"
    assert by_key[(None, "Next steps")] == "办理操作"
    assert by_key[(None, "Next step")] == "下一步安排"
    assert by_key[(None, "next step")] == "下一步安排"


CJK = "[\u3400-\u9fff]"
HALF_WIDTH_BESIDE_CJK = re.compile(f"{CJK} ?[,:;?!()]|[,:;?!()] ?{CJK}")
# Half-width punctuation beside Chinese on purpose: what the reader types or picks, written as it is.
HALF_WIDTH_ON_PURPOSE = {
    'Saved from Excel as "CSV UTF-8" or "CSV (逗号分隔)"; the first line names the columns.': (
        "Chinese Excel's own name of the format in its Save As list"
    ),
    "A GeoJSON Polygon or MultiPolygon in WGS84, each position [longitude, latitude] (longitude first); "
    "empty: no boundary.": "[经度, 纬度] is a GeoJSON array, shown as it is typed",
    "a position must be [longitude, latitude]": "the same GeoJSON array",
    "geometry cannot be read: give every position as [longitude, latitude], all alike": "the same GeoJSON array",
}


def test_punctuation_beside_chinese_is_full_width():
    """ "，" "：" "；" "（）" in a Chinese sentence: "[经度, 纬度]" aside, a half-width one beside a Chinese
    character reads as a slip of the keyboard."""
    found = [
        (msgid, HALF_WIDTH_BESIDE_CJK.search(s).group())
        for _, msgid, s in _chinese_messages()
        if HALF_WIDTH_BESIDE_CJK.search(s) and msgid not in HALF_WIDTH_ON_PURPOSE
    ]
    assert found == []


def test_each_half_width_exception_is_still_in_the_catalogue_and_still_needed():
    """An exception whose message changed or lost its half-width punctuation is removed, not kept."""
    by_msgid = {msgid: s for _, msgid, s in _chinese_messages()}
    assert all(HALF_WIDTH_BESIDE_CJK.search(by_msgid.get(m, "")) for m in HALF_WIDTH_ON_PURPOSE)
