"""Personal data: encryption at rest, keyed hashes for matching, masking for display, ID validation.

Names, ID card numbers, phones and addresses of parties and petitioners are stored encrypted with
Fernet (AES-128-CBC + HMAC) under keys derived from ``FIELD_ENCRYPTION_KEY``. Several comma-separated
keys may be given: the first encrypts, all decrypt (key rotation). ID numbers and phones also keep a
keyed HMAC-SHA256 so repeat petitioners can be matched without decrypting anything. Its key comes from
``FIELD_HASH_KEY`` or, unset, from the last key of ``FIELD_ENCRYPTION_KEY`` (rotation prepends new keys,
the original stays last); stored hashes are compared, so after that key changes
``manage.py reencrypt_personal_data`` recomputes them (docs/reliability.md, "Backups and keys").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.logging import remember


def _derive(secret: str, purpose: bytes) -> bytes:
    return hashlib.sha256(purpose + b"\x00" + secret.encode()).digest()


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(_derive(k.strip(), b"field-encryption")))
            for k in keys.split(",")
            if k.strip()
        ]
    )


_UNDECRYPTABLE = "personal data cannot be decrypted with the configured FIELD_ENCRYPTION_KEY"


def _keys() -> str:
    return settings.FIELD_ENCRYPTION_KEY


def encrypt(value: str) -> str:
    return _fernet(_keys()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(_UNDECRYPTABLE) from exc


def reencrypt(token: str) -> str | None:
    """``token`` encrypted under the current (first) key, or None when it already is: after a key is
    prepended to FIELD_ENCRYPTION_KEY, this moves stored values off the older keys so that they can be
    retired (manage.py reencrypt_personal_data). Raises ValueError as decrypt does."""
    keys = [k.strip() for k in _keys().split(",") if k.strip()]
    current = _fernet(keys[0])
    try:
        current.decrypt(token.encode())
        return None
    except InvalidToken:
        pass
    try:
        return _fernet(_keys()).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(_UNDECRYPTABLE) from exc


def _hash_secret() -> str:
    # Not the first (encrypting) key: that one changes at every rotation, and with it every new hash, so
    # a repeat petitioner would no longer match the stored hashes of their earlier petitions.
    explicit = getattr(settings, "FIELD_HASH_KEY", "")
    if explicit:
        return explicit
    return [k.strip() for k in _keys().split(",") if k.strip()][-1]


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of a normalised value under the hash key: equal inputs give equal hashes, before
    and after a rotation of FIELD_ENCRYPTION_KEY."""
    normalised = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value or "")).upper()
    if not normalised:
        return ""
    key = _derive(_hash_secret(), b"field-hash")
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column whose database value is Fernet ciphertext; Python sees plain text.

    It cannot be filtered or ordered on by content: match through a keyed-hash column instead. Every
    value it decrypts or encrypts while a request is answered is told to the log filter, which masks
    it in that request's log lines (``governance.logging.remember``)."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        plain = decrypt(value)
        remember(plain, _MASKS.get(self.name, _mask_all))
        return plain

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        remember(str(value), _MASKS.get(self.name, _mask_all))
        return encrypt(str(value))


# --- masking for display -------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***; Latin names keep the first letter."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_id_number(value: str) -> str:
    """340104199003071234 -> 3401**********1234."""
    value = (value or "").strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """13812345678 -> 138****5678."""
    value = (value or "").strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_address(value: str) -> str:
    """Keep the first six characters (district / street) but never more than half, hide the rest:
    a short street-and-number address must not show whole or with its house number."""
    value = (value or "").strip()
    if not value:
        return ""
    return value[: min(6, len(value) // 2)] + "***"


# Numbers typed into free text (an incident's description, a step's note): a resident identity
# number (also in groups, "340104 19900307 1235", "340104 1990 0307 1235"), a mobile number (with or
# without +86 and separators) and a landline with a real area code (010, 02x, or four digits from
# 03xx: 0551-62345678, 0551 6234 5678, (0551)62345678, or as validate_phone stores it,
# 055162345678; not any number that starts with 0, as an order number may). Never the middle of a
# longer number (an incident code) nor the decimals of a coordinate (31.0551234567: two digits and
# a dot before it; a list's "1." before a number does not protect it).
_TEXT_NUMBERS = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9]{2}\.)(?:"
    r"(?P<id>[1-9]\d{5}[ -]?(?:18|19|20)\d{2}[ -]?(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[ -]?\d{3}[\dXx])"
    r"|(?P<mobile>(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2})"
    r"|(?P<landline>(?:(?:010|02\d|0[3-9]\d{2})|\((?:010|02\d|0[3-9]\d{2})\))[ -]?\d{3,4}[ -]?\d{4})"
    r")(?![0-9A-Za-z])",
    re.ASCII,
)
# A Chinese input method types full-width digits ("１３８１２３４５６７８"): read as ASCII, one
# character for one, so a match's place in the read text is its place in the text as typed.
_AS_ASCII = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "Ｘ": "X", "ｘ": "x", "＋": "+", "－": "-"}
    | {"（": "(", "）": ")", "\u3000": " ", "\u00a0": " ", "\u2012": "-", "\u2013": "-", "\u2014": "-"}
)


# What a hidden detail reads as (``hide``): the same for every value, so not even its length is told.
HIDDEN = "***"


def mask_numbers_in_text(text: str, *, after_point: bool = True, hide: bool = False) -> str:
    """``text`` with each identity, mobile or landline number in it masked as the lists mask them
    (3401**********1234, 138****5678): for readers of free text who may read no personal data.
    ``hide`` puts ``HIDDEN`` in place of the whole number (for the unit a petition complains about,
    to whom even a masked number's region and last digits tell who complained).
    ``after_point=False`` keeps a number right after a decimal point (a log line's durations:
    "succeeded in 0.13812345678s" is no one's phone; governance.logging)."""
    text = text or ""
    out, done = [], 0
    for match in _TEXT_NUMBERS.finditer(text.translate(_AS_ASCII)):
        if not after_point and text[max(match.start() - 1, 0) : match.start()] in (".", "．"):
            continue
        digits = re.sub(r"[^0-9Xx]", "", match[0])
        if hide:
            masked = HIDDEN
        elif match["id"]:
            masked = mask_id_number(digits)
        else:
            masked = mask_phone(digits[-11:] if match["mobile"] else digits)
        out += [text[done : match.start()], masked]
        done = match.end()
    return "".join([*out, text[done:]])


def mask_people_in_text(text: str, people: Iterable[Any] = (), *, hide: bool = False) -> str:
    """``mask_numbers_in_text``, and each name, ID number, phone and address of ``people`` (the
    record's parties or petitioners: objects with ``PERSONAL_FIELDS``) written out in ``text``
    masked as their list masks it. A name in free text cannot be recognised, but the record's own
    people's names are known: an agreement's terms ("李四赔偿张三丰...") or a petitioner's letter
    ("我叫王建国") named in full, to a reader who may not reveal, whom the list above shows as 张**.
    ``hide``: each of them, and each number, reads ``HIDDEN`` instead, for a reader shown no list
    at all (the unit a petition complains about): 王** and 138****5678 are a surname and a phone's
    last four, which a local unit can put a name to."""
    text = text or ""
    known: dict[str, str] = {}
    for person in people:
        for field in getattr(person, "PERSONAL_FIELDS", ()):
            value = (getattr(person, field, "") or "").strip()
            if len(value) >= 2:  # one character would mask that character everywhere
                known[value] = HIDDEN if hide else _MASKS.get(field, _mask_all)(value)
    # Longest first: a name inside an address is masked with the address, not alone.
    for plain in sorted(known, key=len, reverse=True):
        text = text.replace(plain, known[plain])
    return mask_numbers_in_text(text, hide=hide)


# A Latin name is a word: "Ann" is not the start of "Annual". Chinese is written without spaces, so
# a Chinese name run into the next word ("李四说") is still the name.
_LATIN = re.compile(r"[0-9A-Za-z]", re.ASCII)


def scrub_people_from_text(text: str, people: Iterable[Any], marker: str) -> str:
    """``text`` with each name, ID number, phone and address of ``people`` (objects with
    ``PERSONAL_FIELDS``) written in it replaced by ``marker``, and every other identity or phone
    number masked (``mask_numbers_in_text``): what erasing a record's people leaves of its free
    texts (``manage.py erase_personal_data``). A name or an address is replaced where it is written
    out in full (two characters at least: one would replace that character everywhere), a Latin one
    as a whole word, in any case; a surname alone ("李先生") is not the name and stays. An ID number
    or phone is found as typed, in groups, with +86 or in full-width digits too, and as its digits
    anywhere not inside a longer number ("tel13812345678"). A second pass changes nothing."""
    text = text or ""
    words: set[str] = set()
    numbers: set[str] = set()  # ID numbers and phones, as their digits (an ID's X upper case)
    for person in people:
        for field in getattr(person, "PERSONAL_FIELDS", ()):
            value = unicodedata.normalize("NFKC", getattr(person, field, "") or "").strip()
            if field in ("id_number", "phone"):
                if digits := re.sub(r"[^0-9X]", "", value.upper()):
                    numbers.add(digits)
            elif len(value) >= 2:
                words.add(value)
    # Longest first: a name inside an address goes with the address.
    for value in sorted(words, key=len, reverse=True):
        pattern = re.escape(value)
        if _LATIN.match(value[0]):
            pattern = r"(?<![0-9A-Za-z])" + pattern
        if _LATIN.match(value[-1]):
            pattern += r"(?![0-9A-Za-z])"
        text = re.sub(pattern, lambda _match: marker, text, flags=re.IGNORECASE)
    for digits in sorted(numbers, key=len, reverse=True):
        text = re.sub(rf"(?<!\d){re.escape(digits)}(?!\d)", lambda _match: marker, text, flags=re.I)
    out, done = [], 0
    for match in _TEXT_NUMBERS.finditer(text.translate(_AS_ASCII)):
        digits = re.sub(r"[^0-9X]", "", match[0].upper())
        if match["id"]:
            known, masked = digits, mask_id_number(digits)
        else:
            known = digits[-11:] if match["mobile"] else digits
            masked = mask_phone(known)
        out += [text[done : match.start()], marker if known in numbers else masked]
        done = match.end()
    return "".join([*out, text[done:]])


class TextMask:
    """How a reader reads a record's free text: as typed (``full``, who may reveal its people), or
    through ``mask_people_in_text`` with the record's ``people``. Pages pass it to the
    ``masked_by`` template filter; the people are read once, when the first text is masked."""

    do_not_call_in_templates = True  # a template passes it to the filter, never calls it bare

    def __init__(
        self, *, full: bool, people: Callable[[], Iterable[Any]] | Iterable[Any] = (), hide: bool = False
    ) -> None:
        self.full = full
        self.hide = hide  # ``mask_people_in_text``'s: details hidden whole, not masked
        self._people = people
        self._loaded: list[Any] | None = None

    def __call__(self, text: str) -> str:
        if not text or self.full:
            return text
        if self._loaded is None:
            self._loaded = list(self._people() if callable(self._people) else self._people)
        return mask_people_in_text(text, self._loaded, hide=self.hide)


def mask_text_fields(
    data: dict, fields: Iterable[str], people: Iterable[Any] = (), *, hide: bool = False
) -> dict:
    """``data`` (a serializer's answer) with the numbers in its free-text ``fields`` masked, and the
    names and other details of the record's ``people`` written out in them, for a reader who may
    not reveal the record's personal data (``mask_people_in_text``, ``hide`` as there)."""
    people = list(people)
    for name in fields:
        if data.get(name):
            data[name] = mask_people_in_text(data[name], people, hide=hide)
    return data


def _mask_all(value: str) -> str:
    return "*" * len(value)


# By the field names of the models holding personal data (parties, petitioners).
_MASKS = {"name": mask_name, "id_number": mask_id_number, "phone": mask_phone, "address": mask_address}


# --- Chinese resident identity numbers (GB 11643-1999) ---------------------------------------------

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
# ASCII digits only, after NFKC has turned full-width ones (a Chinese input method's "１２３") into
# them: \d alone took any script's digits, stored them as typed, and hashed them apart from the same
# number typed in ASCII, so one person became two parties and repeats went unmatched.
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$", re.ASCII)


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def validate_resident_id(value: str) -> str:
    """Return the normalised 18-character ID number or raise ValidationError saying what is wrong."""
    import datetime

    value = unicodedata.normalize("NFKC", value or "").strip().upper()
    if not _ID_PATTERN.match(value):
        raise ValidationError(_("An ID number has 17 digits followed by a digit or X."), code="format")
    try:
        born = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(
            _("The date of birth in the ID number is not a real date."), code="birth"
        ) from None
    if born > timezone.localdate():
        raise ValidationError(_("The date of birth in the ID number is in the future."), code="birth")
    if id_check_digit(value[:17]) != value[17]:
        raise ValidationError(_("The ID number's check digit is wrong."), code="check_digit")
    return value


_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$", re.ASCII)


def validate_phone(value: str) -> str:
    value = re.sub(r"[\s]", "", unicodedata.normalize("NFKC", value or ""))
    if not _PHONE.match(value):
        raise ValidationError(
            _("Enter a mobile number (11 digits) or a landline with area code."), code="phone"
        )
    return value
