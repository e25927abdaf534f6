"""Template filters for free text that may hold personal data."""

from django import template

from governance import pii

register = template.Library()


@register.filter
def masked_by(text: str, mask: pii.TextMask | None) -> str:
    """``{{ case.description|masked_by:text_mask }}``: the text as typed for a reader who may reveal
    the record's personal data, else with every identity and phone number in it masked, and the
    record's own people's names and details where they are written out (``pii.TextMask``). A
    petition's content is the petitioner's letter, an agreement's terms name the parties: the list
    masks them, and the same name and numbers were read in full a line above it, by the unit
    complained about among others. A page that gives no mask masks the numbers still."""
    if not text:
        return text
    if isinstance(mask, pii.TextMask):
        return mask(text)
    return pii.mask_numbers_in_text(text)
