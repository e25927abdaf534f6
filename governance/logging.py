"""A logging filter that masks personal data in every log record, whatever code wrote it: what looks
like an ID number, a mobile or a landline number, and every value the current request decrypted or
encrypted (names and addresses have no pattern; an exception's text can carry them)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Not after a decimal point: the digits of a fraction are no one's number (Celery logs each task's
# run time as "succeeded in 0.008012345678906237s", which read as an ID number and was masked).
_ID = re.compile(r"(?<![\d.])(\d{4})\d{10}(\d{3}[\dXx])(?!\d)")
# With or without the country code as people write it: +86 138..., 0086-138..., 86 138....
_MOBILE = re.compile(r"(?<![\d.])((?:(?:\+|00)?86[- ]?)?1[3-9]\d)\d{4}(\d{4})(?!\d)")
# Landlines as governance.pii.validate_phone stores them (a party's or petitioner's phone may be one):
# area code 0xx(x), an optional hyphen, 7-8 digits. Area codes of divisions never start with 0.
_LANDLINE = re.compile(r"(?<![\d.])(0\d{2,3}-?)\d{3,4}(\d{4})(?!\d)")


# Plain text -> how to mask it, for every personal value the current request has decrypted or
# encrypted (``governance.pii.EncryptedTextField`` tells ``remember``). None outside a request (a
# command, a task): nothing is collected there. One dict per request (``tracking_plaintext``), so one
# request's values are never kept for, or matched in, another's log lines.
_seen: ContextVar[dict[str, Callable[[str], str]] | None] = ContextVar("personal_data_seen", default=None)


@contextmanager
def tracking_plaintext() -> Iterator[None]:
    token = _seen.set({})
    try:
        yield
    finally:
        _seen.reset(token)


def remember(value: str, mask: Callable[[str], str]) -> None:
    seen = _seen.get()
    if seen is not None and len(value) >= 2:  # one character would mask that character everywhere
        seen[value] = mask


def mask_text(text: str) -> str:
    text = _ID.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    text = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    text = _LANDLINE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    # What the patterns above miss, as free text is masked on the pages: numbers typed in groups
    # ("138 0013 8000", "138-0013-8000") or in full-width digits. Outside a request (a Celery task, a
    # command) nothing is remembered, so the patterns are all a log line has. Imported here: pii
    # imports this module (``remember``).
    from governance.pii import mask_numbers_in_text

    text = mask_numbers_in_text(text, after_point=False)
    # Longest first: a name inside an address is masked with the address, not alone.
    for plain, mask in sorted((_seen.get() or {}).items(), key=lambda item: -len(item[0])):
        if plain in text:
            text = text.replace(plain, mask(plain))
    return text


class MaskPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break logging
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        # A logged exception (django.request's "Internal Server Error") prints its traceback after the
        # message, with the exception's own text: formatted here, masked, and kept as the record's
        # exc_text, which formatters print instead of formatting exc_info again.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True
