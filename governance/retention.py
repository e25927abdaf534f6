"""Erasing residents' personal details from long-closed records (``manage.py erase_personal_data``).

Each app that keeps people's details registers, in its ``ready()``, which of its rows may be erased,
how, and which free texts of their records may name them (``register_eraser``): the kernel imports
no app (docs/architecture.md). Only the personal columns are cleared, and the people's details
written in those texts replaced; the people's rows, their records and everything counted from them
stay, so the statistics do not move. An erased person's name is stored empty (never otherwise: a name is
required), which the pages read as ``ERASED_NAME``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# How an erased person's name reads on the pages and in the API, in the reader's language.
ERASED_NAME = _("(personal details erased)")

# What a reveal of an erased person answers (a 400 naming the person; nothing logged).
ERASED_REFUSAL = _("Nothing to show: this person's details were erased when their retention period ended.")


def is_erased(name: str | None) -> bool:
    """An empty name is an erased person's: every form and import requires one."""
    return not (name or "").strip()


@dataclass(frozen=True)
class Texts:
    """Free texts of the records erased: the ``fields`` of the rows of ``model`` whose ``key`` is a
    record's key (``"pk"`` for the record's own texts, ``"case_id"`` for its sessions' ...,
    ``"dispute_case"`` for the incident a case was referred from: a reverse one-to-one). Read and
    written through the model, so a text stored encrypted is decrypted and encrypted again."""

    model: type[models.Model]
    key: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Eraser:
    """One kind of person's rows: ``people(closed_before, now)`` gives those of the records closed
    for good before the cut-off; ``record`` names their record's key; ``clear`` the values that
    erase them (constants, stored as they are: no row is encrypted one by one); ``counted`` reads
    how many (lazy text with ``%(people)d`` and ``%(records)d``); ``texts`` the free texts of the
    records in which the people's details are replaced before they are cleared."""

    people: Callable[[dt.date, dt.datetime], models.QuerySet]
    record: str
    clear: dict[str, Any]
    counted: Any
    texts: tuple[Texts, ...] = ()

    def pending(self, closed_before: dt.date, now: dt.datetime) -> models.QuerySet:
        """The eligible people still holding something: a second run finds none of the first's."""
        return self.people(closed_before, now).exclude(Q(**self.clear))


_erasers: list[Eraser] = []


def register_eraser(eraser: Eraser) -> None:
    if eraser not in _erasers:
        _erasers.append(eraser)


def erasers() -> list[Eraser]:
    return list(_erasers)
