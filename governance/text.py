"""Sentences joined into one message: a Chinese page puts no space after its full-width punctuation.

Messages were joined with " ": "Not approved. Approve…" read well, "未批准。 批准…" did not."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import lazy

# Full-width marks that end a sentence or a clause; the text after them follows with no space.
FULL_WIDTH_STOPS = tuple("。！？；：，、")


def gap_after(text: object) -> str:
    """What goes between ``text`` and the sentence after it: nothing after full-width punctuation,
    else one space."""
    return "" if str(text).rstrip().endswith(FULL_WIDTH_STOPS) else " "


# Full-width marks that open an aside; the text before them ends with no space.
FULL_WIDTH_OPENINGS = tuple("（《「『“")


def gap_before(text: object) -> str:
    """What goes between a word and ``text`` following it: nothing before a full-width opening mark
    ("2027-01-04（剩余 28 天）"), else one space ("2027-01-04 (28 days left)")."""
    return "" if str(text).lstrip().startswith(FULL_WIDTH_OPENINGS) else " "


def join_sentences(parts: Iterable[object]) -> str:
    """``parts`` (strings or lazy translations; blank ones skipped) as one message."""
    text = ""
    for part in parts:
        part = str(part).strip()
        if part:
            text = f"{text}{gap_after(text)}{part}" if text else part
    return text


# For texts built at import time (schema descriptions): joined in the reader's language when read.
join_sentences_lazy = lazy(join_sentences, str)
