"""``{{ lead|gap_after }}``: the space between a translated sentence and the next (``governance.text``);
``{{ aside_open|gap_before }}``: the space before an aside's bracket, none before a full-width one;
``{{ span|whole_minutes }}``: a duration as the count of a sentence ("try again in 15 minutes");
``{{ deleted_objects|readers_colon }}``: the admin's deletion lists with the reader's colon;
``{{ date|kept_whole:"acceptance-due" }}``: a date inside a translated sentence, never broken;
``{{ label|aside_whole }}``: a label's closing bracket, "(60 + 20 days)", never broken."""

import math
import re
from datetime import timedelta

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import pgettext

from governance import text

register = template.Library()


@register.filter
def gap_after(lead: str) -> str:
    """``{% translate "Not approved." as lead %}{{ lead }}{{ lead|gap_after }}{{ message }}``: one
    space in English, none after the full-width 。 of "未批准。"."""
    return text.gap_after(lead)


@register.filter
def gap_before(aside: str) -> str:
    """``{% translate "(" context "opening an aside" as aside_open %}…{{ aside_open|gap_before }}``:
    one space before "(28 days left)", none before the full-width bracket of "（剩余 28 天）"."""
    return text.gap_before(aside)


@register.filter
def kept_whole(value: str, element_id: str = "") -> str:
    """``{% blocktranslate with due=incident.due_at|date:"Y-m-d H:i"|kept_whole %}``: the value in a
    ``.nowrap`` span, escaped, for a sentence to carry whole. On a phone "将于 2026-12-08 10:30 前受理"
    broke inside the date (2026-12- / 08); the sentence now breaks before or after it."""
    if element_id:
        return format_html('<span class="nowrap" id="{}">{}</span>', element_id, value)
    return format_html('<span class="nowrap">{}</span>', value)


# A label's aside at its end: "书面答复（60 + 20 日）", "Written reply (60 + 20 days)".
_ENDING_ASIDE = re.compile(r"^(.*?)\s*([(（][^()（）]*[)）])$", re.S)


@register.filter
def aside_whole(label: str) -> str:
    """The bracket ending ``label`` in a ``.nowrap`` span, the rest as it is, both escaped. In a
    phone's narrow heading column "书面答复（60 + 20 日）" broke over three lines, the figures of the
    limit parted (60 + / 20 日）); it now breaks before the bracket only. A label with no bracket at
    its end is only escaped."""
    found = _ENDING_ASIDE.match(str(label))
    if not found:
        return format_html("{}", label)
    name, aside = found.groups()
    space = " " if aside.startswith("(") and name else ""
    return format_html('{}{}<span class="nowrap">{}</span>', name, space, aside)


@register.filter
def whole_minutes(span: timedelta | None) -> int:
    """The minutes of ``span``, a part counted as one: a wait is never said shorter than it is."""
    return math.ceil(span.total_seconds() / 60) if span else 0


@register.filter
def readers_colon(items):
    """The admin's list of what a deletion takes, with the reader's colon: Django writes each line
    as "Area: <a …>…</a>" in its own code (``admin.utils.get_deleted_objects``), an English ':' after
    "区域" on a Chinese page. ``{{ deleted_objects|readers_colon|unordered_list }}``; nested lists
    stay nested, and a line's safety (a link, or text still to be escaped) is kept."""
    if isinstance(items, (list, tuple)):
        return [readers_colon(item) for item in items]
    if not isinstance(items, str) or ": " not in items:
        return items
    label, rest = items.split(": ", 1)
    joined = label + pgettext("between a label and its value", ": ") + rest
    return mark_safe(joined) if isinstance(items, SafeData) else joined  # noqa: S308 (was safe)
