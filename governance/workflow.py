"""Transition tables for the workflows of incidents, disputes and petitions (DESIGN.md section 5).

A model declares its table as a ``Workflow`` beside its status choices; its one transition method
asks the table whether an action is allowed from the current state (``Workflow.check``) and by whom.
Pages, API, tasks and commands all call that method, so a rule is written once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from governance.text import join_sentences


class WorkflowError(Exception):
    """Base class; ``status_code`` is what the API answers."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransitionNotAllowed(WorkflowError):
    """The action is not allowed from the record's current state (HTTP 409, nothing changes)."""

    status_code = 409


class ActionForbidden(WorkflowError):
    """The user may see the record but their role may not perform this action (HTTP 403)."""

    status_code = 403


class ActionInvalid(WorkflowError):
    """The action's own fields are missing or wrong (HTTP 400); ``field`` names the (first) culprit
    and ``errors`` every field in error with its message, so a form shows them all at once."""

    status_code = 400

    def __init__(self, field_name: str, message: str, *, also: dict[str, str] | None = None) -> None:
        self.errors = {field_name: message, **(also or {})}
        super().__init__(join_sentences(dict.fromkeys(self.errors.values())))
        self.field = field_name


class FieldErrors:
    """Collects an action's field errors so that they are reported together: ``add`` each, then
    ``raise_any`` before the checks that need those fields right (and before anything is written)."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, message)

    def __contains__(self, field_name: str) -> bool:
        return field_name in self.errors

    def raise_any(self) -> None:
        if self.errors:
            (first, message), *rest = self.errors.items()
            raise ActionInvalid(first, message, also=dict(rest))


class _DryRun(Exception):
    """Ends a step run only for what it would refuse: its transaction is rolled back."""


def step_field_errors(perform: Callable[[], object]) -> dict[str, str]:
    """The field errors the step ``perform`` takes would be refused with, by field: it runs inside a
    transaction that is always rolled back, so nothing is written and no task is queued
    (``on_commit`` callbacks of a rolled-back block are dropped). None when it would pass, or be
    refused for a reason that is no field's (not from this state). A page or an endpoint whose
    form refused a value asks this of what the form could read, so that the step's own errors
    (no reason, no terms) come in the same answer, not one submit later."""
    try:
        with transaction.atomic():
            perform()
            raise _DryRun
    except ActionInvalid as exc:
        return dict(exc.errors)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            return {name: join_sentences(messages) for name, messages in exc.message_dict.items()}
    except (_DryRun, WorkflowError):
        pass
    return {}


class UnknownAction(ActionInvalid):
    """An action the workflow does not have: a bad value of the ``action`` field, named as such."""

    def __init__(self, message: str) -> None:
        super().__init__("action", message)


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change (e.g. recording a session)
    roles: frozenset[str] = field(default_factory=frozenset)

    def __init__(self, action: str, sources: Iterable[str], target: str | None, roles: Iterable[str] = ()):
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "sources", frozenset(sources))
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "roles", frozenset(roles))


class Workflow:
    def __init__(self, transitions: Iterable[Transition], labels: dict[str, str] | None = None) -> None:
        self.transitions = {t.action: t for t in transitions}
        self.labels = labels or {}

    @property
    def actions(self) -> list[str]:
        return list(self.transitions)

    def get(self, action: str) -> Transition:
        try:
            return self.transitions[action]
        except KeyError:
            raise UnknownAction(
                _("Unknown action %(action)s; expected one of: %(actions)s")
                % {"action": action, "actions": ", ".join(self.transitions)}
            ) from None

    def check(self, action: str, state: str, state_label: str | None = None) -> Transition:
        transition = self.get(action)
        if state not in transition.sources:
            raise TransitionNotAllowed(
                _("Cannot %(action)s: the record is %(state)s.")
                % {"action": self.labels.get(action, action), "state": state_label or state}
            )
        return transition

    def available(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]


class TimelineLabels:
    """Display labels for an event row of a workflow's timeline. The event model names its record's
    status choices (``STATUS``) and its action labels (``ACTION_LABELS``)."""

    STATUS: type
    ACTION_LABELS: dict
    # Set on the event a transition returns for a step sent twice (``repeated_event``; not a column).
    repeated = False

    def __str__(self) -> str:  # the admin's inline rows: no related record read
        return f"{self.action_label} · {timezone.localtime(self.at):%Y-%m-%d %H:%M}"

    @property
    def action_label(self) -> str:
        return str(self.ACTION_LABELS.get(self.action, self.action))

    def done_message(self, code: str) -> str:
        """The confirmation shown after a step. The labels are imperatives ("accept", "record a
        follow-up visit"), so they head the message rather than sit inside a sentence: "Accept: done
        (INC-2026-000123)." reads in English where "INC-2026-000123: accept done." did not."""
        return _("%(action)s: done (%(code)s).") % {"action": capfirst(self.action_label), "code": code}

    @property
    def from_status_label(self) -> str:
        return str(self.STATUS(self.from_status).label) if self.from_status else ""

    @property
    def to_status_label(self) -> str:
        return str(self.STATUS(self.to_status).label)

    @property
    def status_shown(self) -> str:
        """The status a timeline line shows: "from → to" for a step that moved the record, the
        status once for one that left it where it was (an assist, an extension, an evaluation read
        "处置中 → 处置中", as if it had moved), nothing for the first step (it starts from none)."""
        if not self.from_status:
            return ""
        if self.from_status == self.to_status:
            return self.to_status_label
        return f"{self.from_status_label} → {self.to_status_label}"


def repeated_event(events, *, current: str, user, action: str, state: str | None, state_of):
    """The event by which ``user`` has already taken ``action`` from ``state``, the state a step's
    form was drawn in: the record has moved on from it and that event is the latest (nobody has acted
    since). Then the form was sent twice (a second tap, a retry after a lost answer), and the step
    is answered as done instead of refused with a 409. A step another user took first, or a form
    drawn in the current state, is none. ``state_of(event)`` is the state an event started from.
    Call it under the record's lock (``apply_locked``): a second send that read the record before
    the first committed finds the first's event too."""
    if not state or state == current:
        return None
    last = events.order_by("-at", "-id").first()
    if last and last.actor_id == user.pk and last.action == action and state_of(last) == state:
        return last
    return None


def refuse_moved_on(locked, workflow: Workflow, action: str) -> None:
    """TransitionNotAllowed (409) for a form drawn in a state the record has left (by someone else's
    step, or the user's own with others acting since) when the new state still takes the step: it
    was asked of a record that is no longer there. Two handlers dispatching one incident at once,
    the second form typed with a reason, went through as a re-dispatch and undid the first's choice;
    a transfer drawn before a member accepted the case took it from the mediator who had just
    accepted it. A step the new state does not take is left to ``Workflow.check``'s "Cannot ...:
    the record is ..."."""
    transition = workflow.transitions.get(action)
    if transition is None or locked.status not in transition.sources:
        return
    last = locked.events.order_by("-at", "-id").first()
    raise TransitionNotAllowed(
        _(
            "This record has changed since your page was drawn (latest step: %(step)s); it is now "
            "%(status)s. Look at it again, then act if still needed."
        )
        % {"step": last.action_label if last else "-", "status": locked.get_status_display()}
    )


# What a step's form sends as ``state``: the state it was drawn in (a status; an incident's
# "status/level"), then "@" and the id of the record's latest event at that moment (``form_state``).
# The id tells a step someone else took meanwhile that left the state as it was (a re-dispatch, a
# reassignment); a bare state, as API clients have sent it, is read as before.
STATE_SEPARATOR = "@"
_UNREAD = object()


def latest_step_subquery(event_model, record_field: str):
    """The id of a record's latest event, to annotate as ``latest_step_id`` on the querysets whose
    rows draw step forms: in the rows' own query, no query per row."""
    from django.db.models import OuterRef, Subquery

    return Subquery(
        event_model.objects.filter(**{record_field: OuterRef("pk")}).order_by("-id").values("id")[:1]
    )


def form_state(record, state: str) -> str:
    """``state`` with the id of ``record``'s latest event, as a step's form sends it back. Read from
    ``latest_step_id`` when the record's query annotated it (``latest_step_subquery``), else asked."""
    latest = getattr(record, "latest_step_id", _UNREAD)
    if latest is _UNREAD:
        latest = record.events.order_by("-id").values_list("id", flat=True).first()
    return f"{state}{STATE_SEPARATOR}{latest or 0}"


def validate_form_state(value: str) -> None:
    """A ``state`` whose part after "@" is no event id is refused (400 naming ``state``)."""
    if value and STATE_SEPARATOR in value and not value.rpartition(STATE_SEPARATOR)[2].isdigit():
        raise ValidationError(
            _("Send the state as the page or the record's step_state gives it, e.g. dispatched@123."),
            code="invalid",
        )


def split_state(state: str | None) -> tuple[str | None, int | None]:
    """``state`` as sent: the state the form was drawn in, and the id of the latest event then (None
    when the client sent the bare state)."""
    if not state or STATE_SEPARATOR not in state:
        return state, None
    bare, _sep, latest = state.rpartition(STATE_SEPARATOR)
    return bare or None, int(latest) if latest.isdigit() else None


def refuse_stepped_since(locked, workflow: Workflow, action: str, actor, since: int | None):
    """TransitionNotAllowed (409, ``refuse_moved_on``'s message) for a form drawn before someone
    else's step, whether or not that step changed the state: two handlers re-dispatching a dispatched
    incident to different departments, two heads reassigning one case, both succeeded and the last
    silently won. ``since`` is the latest event id the form saw. The user's own ``action`` alone
    since is returned: the same form sent twice, if it asks the same (the callers judge that as for
    ``repeated_event``'s), even when the step left the state as it was."""
    if since is None:
        return None
    newer = list(locked.events.filter(id__gt=since).order_by("id")[:2])
    if not newer:
        return None
    if len(newer) == 1 and newer[0].actor_id == actor.pk and newer[0].action == action:
        return newer[0]
    refuse_moved_on(locked, workflow, action)
    return None


def take_step(
    record,
    related: tuple[str, ...],
    *,
    workflow: Workflow,
    action: str,
    actor,
    note: str,
    state: str | None,
    fields,
):
    """The transition of a record whose workflow state is its ``status`` (a dispute case, a
    petition): under the record's lock (``apply_locked``), a step this user already took from
    ``state`` is answered with its event (``repeated`` set, nothing changed); a form drawn in a
    state the record has left otherwise is refused (``refuse_moved_on``), and so is one drawn
    before someone else's step that left the status as it was, when ``state`` carries the latest
    event id (``refuse_stepped_since``); any other goes to the record's ``_apply``, which checks and
    takes it."""

    state, since = split_state(state)

    def apply(locked):
        own = refuse_stepped_since(locked, workflow, action, actor, since)
        repeat = repeated_event(
            locked.events, current=locked.status, user=actor, action=action, state=state,
            state_of=lambda e: e.from_status,
        ) or own  # fmt: skip
        if repeat is not None and not _asks_otherwise(
            repeat, note=note, fields=fields, blank_is_default=True
        ):
            repeat.repeated = True
            return repeat
        if repeat is not None:
            # A form drawn before the user's own step that asks something else (another mediator,
            # another outcome): not the first one sent again, and "done" would say it was done. The
            # record has moved on, so the step is refused (409) like anyone's from a stale form.
            return locked._apply(action=action, actor=actor, note=(note or "").strip(), **fields)
        if repeat is None and state and state != locked.status:
            refuse_moved_on(locked, workflow, action)
        earlier = _same_step_before(locked, actor=actor, action=action, state=state)
        if earlier is None:
            return locked._apply(action=action, actor=actor, note=(note or "").strip(), **fields)
        return _unless_sent_twice(locked, earlier, action=action, actor=actor, note=note, fields=fields)

    return apply_locked(record, related, apply)


# How long after a step that leaves the status as it is (a follow-up visit, an extension, an
# evaluation) the same step sent again by the same user, nobody acting since, is taken as the
# first one sent twice: a double tap, or a retry after a lost answer.
SAME_STEP_WINDOW = dt.timedelta(minutes=10)


class _SentTwice(Exception):
    pass


def _same_step_before(locked, *, actor, action: str, state: str | None):
    """The latest event, if it is ``actor``'s ``action`` taken moments ago from ``state`` without
    leaving it, ``state`` being the current status: ``repeated_event`` cannot tell a second send of
    such a step from the first, as the status it remembers has not moved."""
    if not state or state != locked.status:
        return None
    last = locked.events.order_by("-at", "-id").first()
    if (
        last is not None
        and last.actor_id == actor.pk
        and last.action == action
        and last.from_status == state
        and last.to_status == state
        and timezone.now() - last.at <= SAME_STEP_WINDOW
    ):
        return last
    return None


def _asks_otherwise(earlier, *, note: str, fields, blank_is_default: bool = False) -> bool:
    """Whether a step sent by the same user as ``earlier`` asks something else: another note, or a
    detail ``earlier`` recorded (its ``data``: the mediator, the outcome, the decision ...) given
    another value. Then it is not the first one sent again. With ``blank_is_default`` a detail sent
    empty is the default the first send took (accepting "myself" records the user as mediator)."""
    details = getattr(earlier, "data", None) or {}

    def plain(value):
        return str(getattr(value, "pk", value))

    return (note or "").strip() != earlier.note or any(
        plain(details[k]) != plain(v)
        for k, v in fields.items()
        if k in details and not (blank_is_default and v in (None, ""))
    )


def _unless_sent_twice(locked, earlier, *, action: str, actor, note: str, fields):
    """Take the step in a savepoint. It is the first one sent again (``earlier`` returned, marked
    ``repeated``, nothing kept) when it records the very same (note and details), or when it asks
    the same and is refused by what the first one left (an extension is granted once, a type
    corrected to a claim is a claim: the second is not an error to report, it is the first; a
    different evaluation still is)."""
    from django.db import transaction

    try:
        with transaction.atomic():
            event = locked._apply(action=action, actor=actor, note=(note or "").strip(), **fields)
            if event.note == earlier.note and getattr(event, "data", None) == getattr(earlier, "data", None):
                raise _SentTwice
    except _SentTwice:
        pass
    except (TransitionNotAllowed, ActionInvalid):
        # Refused by what the first one did ("already extended", "already a claim", "already
        # linked"): the first one is this one only if this one asked the same (a different
        # evaluation is a conflict to report, not the first sent again).
        if _asks_otherwise(earlier, note=note, fields=fields):
            raise
    else:
        return event
    locked.refresh_from_db()  # what the discarded step set on the copy in memory
    earlier.repeated = True
    return earlier


def apply_locked(instance, related: tuple[str, ...], apply):
    """Run ``apply(locked)`` on a fresh copy of ``instance`` re-read under ``select_for_update``,
    inside one transaction, then copy the result back into ``instance``.

    This is the locking half of every workflow's one transition method: two people acting on the
    same record at once serialise, and the second sees the first's result (and gets 409 if its move
    no longer applies). ``related`` are the relations ``apply`` reads, loaded with the lock."""
    from django.db import transaction

    model = type(instance)
    with transaction.atomic():
        # The lock first, then the row and its relations in a statement of its own. Taken in one
        # statement, a request that waited for another's lock got the row as the other left it but
        # the related rows as they were before (PostgreSQL re-checks only the locked row): an item
        # dispatched meanwhile had a department id and no department (a 500), and one whose centre
        # or organisation had changed was not found at all.
        list(model.objects.select_for_update(no_key=True).filter(pk=instance.pk).values_list("pk"))
        locked = model.objects.select_related(*related).get(pk=instance.pk)
        result = apply(locked)
    for f in instance._meta.concrete_fields:
        setattr(instance, f.attname, getattr(locked, f.attname))
    instance._state.fields_cache = dict(locked._state.fields_cache)
    # What was prefetched before the action (an incident's supporting departments, its photos) may
    # have changed with it: the next read goes to the database.
    instance.__dict__.pop("_prefetched_objects_cache", None)
    # The latest event its query annotated (``latest_step_subquery``) is the one before the step.
    instance.__dict__.pop("latest_step_id", None)
    return result
