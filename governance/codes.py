"""Statistical division codes (统计用区划代码) and grid codes, DOMAIN.md "Areas and codes".

A 12-digit code is province(2) city(2) county(2) street/township(3) community/village(3); higher levels
pad with zeros. A grid is its community's code plus a 3-digit sequence (15 digits).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CITY, DISTRICT, STREET, COMMUNITY, GRID = "city", "district", "street", "community", "grid"
LEVEL_ORDER = [CITY, DISTRICT, STREET, COMMUNITY, GRID]
PARENT_LEVEL = {DISTRICT: CITY, STREET: DISTRICT, COMMUNITY: STREET, GRID: COMMUNITY}
# How many leading digits identify an area of each level (the rest must be zeros).
SIGNIFICANT_DIGITS = {CITY: 4, DISTRICT: 6, STREET: 9, COMMUNITY: 12, GRID: 15}
# The names of the levels in messages (the labels of Area.Level, which imports this module): a message
# says "街道/乡镇代码应为 12 位", not "street代码应为 12 位".
LEVEL_LABELS = {
    CITY: gettext_lazy("city"),
    DISTRICT: gettext_lazy("district / county"),
    STREET: gettext_lazy("street / township"),
    COMMUNITY: gettext_lazy("community / village"),
    GRID: gettext_lazy("grid"),
}


def level_label(level: str | None) -> str:
    return str(LEVEL_LABELS.get(level or "", level or ""))


# Digits 7-9 (DOMAIN.md): 001-099 streets (街道), 100-199 towns (镇), 200-399 townships (乡).
STREET_PART_MAX = 399

# ASCII digits: \d alone also took full-width and other scripts' digits ("340102001001００３"),
# which int() reads, so a near-duplicate of an ASCII code passed.
_DIGITS = re.compile(r"^\d+$", re.ASCII)


def is_code(value: str) -> bool:
    """Whether ``value`` is written as a code (ASCII digits only), not a name: no area is named so."""
    return bool(_DIGITS.match(value))


def code_errors(code: str, level: str, parent_code: str | None, parent_level: str | None) -> list[str]:
    """Every reason ``code`` is not a valid code for an area of ``level`` under the given parent."""
    errors: list[str] = []
    if level not in SIGNIFICANT_DIGITS:
        return [_("unknown level %(level)s") % {"level": level}]
    expected_len = 15 if level == GRID else 12
    if not _DIGITS.match(code or ""):
        return [_("code must contain digits only")]
    if len(code) != expected_len:
        errors.append(
            _("a %(level)s code has %(n)d digits") % {"level": level_label(level), "n": expected_len}
        )
        return errors
    sig = SIGNIFICANT_DIGITS[level]
    if level != GRID and code[sig:] != "0" * (12 - sig):
        errors.append(
            _("digits after position %(n)d must be zeros for a %(level)s")
            % {"n": sig, "level": level_label(level)}
        )
    own = {CITY: code[2:4], DISTRICT: code[4:6], STREET: code[6:9], COMMUNITY: code[9:12], GRID: code[12:15]}[
        level
    ]
    if int(own) == 0:
        errors.append(_("the %(level)s part of the code must not be zero") % {"level": level_label(level)})
    # Checked on every code that carries them (not only through the parent's prefix), so a code is
    # refused the same way whether its parent is in the database, in an import file or missing.
    if code[0:2] == "00":
        errors.append(_("the province part of the code (digits 1-2) must not be zero"))
    if sig >= SIGNIFICANT_DIGITS[STREET] and int(code[6:9]) > STREET_PART_MAX:
        errors.append(_("digits 7-9 of the code (street or township) must be between 001 and 399"))
    misplaced = parent_errors(level, parent_level)
    if misplaced or level == CITY:
        return errors + misplaced
    psig = SIGNIFICANT_DIGITS[parent_level]
    if parent_code is None or code[:psig] != parent_code[:psig]:
        errors.append(
            _("code %(code)s does not start with its parent's prefix %(prefix)s")
            % {"code": code, "prefix": (parent_code or "")[:psig]}
        )
    return errors


def parent_errors(level: str, parent_level: str | None) -> list[str]:
    """Why an area of ``level`` cannot sit under a parent of ``parent_level`` (None: no parent).
    Nothing for an unknown level, which ``code_errors`` reports."""
    if level not in SIGNIFICANT_DIGITS:
        return []
    wanted_parent = PARENT_LEVEL.get(level)
    if wanted_parent is None:
        return [_("a city has no parent area")] if parent_level is not None else []
    if parent_level is None:
        return [
            _("a %(level)s needs a parent %(parent)s")
            % {"level": level_label(level), "parent": level_label(wanted_parent)}
        ]
    if parent_level != wanted_parent:
        return [
            _("a %(level)s belongs to a %(parent)s, not a %(given)s")
            % {
                "level": level_label(level),
                "parent": level_label(wanted_parent),
                "given": level_label(parent_level),
            }
        ]
    return []
