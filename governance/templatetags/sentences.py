"""``{{ lead|gap_after }}``: the space between a translated sentence and the next (``governance.text``)."""

from django import template

from governance import text

register = template.Library()


@register.filter
def gap_after(lead: str) -> str:
    """``{% translate "Not approved." as lead %}{{ lead }}{{ lead|gap_after }}{{ message }}``: one
    space in English, none after the full-width 。 of "未批准。"."""
    return text.gap_after(lead)
