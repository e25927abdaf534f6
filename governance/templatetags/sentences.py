"""``{{ lead|gap_after }}``: the space between a translated sentence and the next (``governance.text``);
``{{ span|whole_minutes }}``: a duration as the count of a sentence ("try again in 15 minutes")."""

import math
from datetime import timedelta

from django import template

from governance import text

register = template.Library()


@register.filter
def gap_after(lead: str) -> str:
    """``{% translate "Not approved." as lead %}{{ lead }}{{ lead|gap_after }}{{ message }}``: one
    space in English, none after the full-width 。 of "未批准。"."""
    return text.gap_after(lead)


@register.filter
def whole_minutes(span: timedelta | None) -> int:
    """The minutes of ``span``, a part counted as one: a wait is never said shorter than it is."""
    return math.ceil(span.total_seconds() / 60) if span else 0
