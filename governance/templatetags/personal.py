"""Template filters for free text that may hold personal data."""

from django import template

from governance import pii

register = template.Library()


@register.filter
def masked_unless(text: str, reads_in_full: bool) -> str:
    """``{{ case.description|masked_unless:can_reveal }}``: the text as typed for a reader who may
    reveal the record's personal data, else with every identity and phone number in it masked
    (``governance.pii.mask_numbers_in_text``). A petition's content is the petitioner's letter, a
    session summary names who came and how to reach them: the parties' list masks them, and the
    same numbers were read in full a line above it, by the unit complained about among others."""
    if not text or reads_in_full:
        return text
    return pii.mask_numbers_in_text(text)
