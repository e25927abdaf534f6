"""Writes of the kernel that other apps call: reveals of personal data and audit entries."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.holiday_calendars import DayRun, day_runs
from governance.models import AuditEntry, Holiday, Notification, PersonalDataAccess, User


class RevealLimitReached(Exception):
    """``actor`` revealed ``PERSONAL_DATA_REVEAL_LIMIT`` people's details within the window: the
    reveal asked for is refused, nothing shown and nothing logged. ``wait`` is the seconds until the
    oldest reveal in the window leaves it (the API's Retry-After); the message, in the language of the
    request, says the limit and the minutes to wait."""

    def __init__(self, wait: int) -> None:
        self.wait = wait
        window_minutes = int(settings.PERSONAL_DATA_REVEAL_WINDOW.total_seconds() // 60)
        wait_minutes = max(1, -(-wait // 60))
        super().__init__(
            ngettext(
                # "(limit: N per M minutes)" reads right for a limit of 1 as for 30.
                "Reveal limit reached (limit: %(limit)d per %(minutes)d minutes). Try again in %(wait)d minute.",
                "Reveal limit reached (limit: %(limit)d per %(minutes)d minutes). Try again in %(wait)d minutes.",
                wait_minutes,
            )
            % {"limit": settings.PERSONAL_DATA_REVEAL_LIMIT, "minutes": window_minutes, "wait": wait_minutes}
        )


def _reveal_limit_check(actor: User) -> None:
    """Raise ``RevealLimitReached`` when ``actor`` already has ``PERSONAL_DATA_REVEAL_LIMIT`` access-log
    rows in the window. The user's row is locked first: two reveals at once (two tabs, a script)
    would otherwise both count one short of the limit and both be shown."""
    User.objects.select_for_update(no_key=True).filter(pk=actor.pk).first()
    limit, window = settings.PERSONAL_DATA_REVEAL_LIMIT, settings.PERSONAL_DATA_REVEAL_WINDOW
    now = timezone.now()
    recent = PersonalDataAccess.objects.filter(user=actor, at__gt=now - window)
    count = recent.count()
    if count < limit:
        return
    # Allowed again once all but limit - 1 of them have left the window.
    freed_at = recent.order_by("at").values_list("at", flat=True)[count - limit] + window
    raise RevealLimitReached(max(1, int((freed_at - now).total_seconds() + 0.999)))


@transaction.atomic
def personal_data_reveal(
    *,
    actor: User,
    obj: models.Model,
    record: str,
    fields: list[str],
    reason: str,
    ip_address: str | None = None,
    limited: bool = False,
) -> PersonalDataAccess:
    """Log one reveal of ``fields`` of ``obj``. The caller has already checked that ``actor`` may see
    them (assigned handler/mediator/officer); this only refuses a reveal without a reason and, when
    ``limited`` (a reveal the user asked for, not one the platform makes in a step: the printed
    agreement, a repeat match), one past the user's limit (``RevealLimitReached``).

    A reason the platform gives (a lazily translated text: printing an agreement, a repeat check)
    is written in the site's language, not in the language of the page that caused it: the log's
    readers saw one check in Chinese and the next in English. A typed reason is kept as typed."""
    if isinstance(reason, Promise):
        reason = in_site_language(reason)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("Say why you need to see this person's details.")]})
    if limited:
        _reveal_limit_check(actor)
    entry = PersonalDataAccess(
        user=actor,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        record=record,
        fields=",".join(fields),
        reason=reason,
        ip_address=ip_address,
    )
    entry.full_clean()
    entry.save()
    return entry


def token_digest(key: str) -> str:
    """What is stored of an API token: the first 40 hex digits (160 bits) of its SHA-256, in DRF's
    ``Token.key`` column. The key itself is random (160 bits), so a digest cannot be reversed or
    guessed; a copy of the database no longer holds keys a client could send."""
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def in_site_language(text: Promise | str) -> str:
    """A lazily translated text as stored for every reader: in the site's language (LANGUAGE_CODE),
    not in the language of the request that wrote it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


@transaction.atomic
def user_token_issue(*, user: User, via: str = "api") -> str:
    """A new API token for ``user``, returned once; its digest is stored and the user's previous
    token stops working (one token per user, as DRF keeps them: the key cannot be handed out again).
    Audited (``token.issue``, with where it was asked for: the API, the account page, the command)."""
    from rest_framework.authtoken.models import Token

    key = secrets.token_hex(20)
    # Two requests at once (a client retrying after a timeout) both found no token to delete and the
    # second insert broke the one-token-per-user constraint: a 500. The user's row is locked first,
    # so the second waits, then replaces the first's token.
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    Token.objects.filter(user=user).delete()
    Token.objects.create(user=user, key=token_digest(key))
    audit(actor=user, action="token.issue", obj=user, after={"via": via})
    return key


@transaction.atomic
def user_tokens_revoke(*, user: User, via: str, actor: User | None = None) -> int:
    """Delete the user's API tokens: a client holding one must sign in again. Called when the user
    revokes theirs (the account page), is deactivated or their password is set, where Django already
    ends their sessions (the session keeps a hash of the password; an inactive user's session no
    longer loads), but a token, which lives until deleted, kept working for a stolen key once the
    account was reactivated, or after the reset that was meant to lock the thief out. Audited
    (``token.revoke``) when there was one; ``actor`` defaults to the user. Returns how many were
    deleted."""
    from rest_framework.authtoken.models import Token

    deleted, _per_model = Token.objects.filter(user=user).delete()
    if deleted:
        audit(actor=actor or user, action="token.revoke", obj=user, after={"tokens": deleted, "via": via})
    return deleted


@transaction.atomic
def user_password_reset(*, user: User, actor: User) -> str:
    """A one-time temporary password for ``user`` (there is no e-mail on an intranet to send a reset
    link): returned for the administrator to pass on, never stored in clear or written in the audit
    entry. The user must choose their own at the next sign-in (``must_change_password``); setting it
    ends their sessions and API tokens (User.save). The login lockout of the username ends too: the
    forgotten password's guesses locked it, and the user is waiting to sign in with the new one.
    Audited as ``password.reset``."""
    from axes.utils import reset as axes_reset

    from governance.backends import username_key

    temporary = secrets.token_urlsafe(12)  # 16 characters of [A-Za-z0-9_-]: ~96 bits
    user.set_password(temporary)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    axes_reset(username=username_key(user.username))  # as the lockout counts it
    audit(actor=actor, action="password.reset", obj=user, after={"must_change_password": True})
    return temporary


def advisory_xact_lock(key: int) -> None:
    """Take a PostgreSQL transaction-level advisory lock on ``key`` (released when the transaction
    ends): for what no one row stands for, such as "this file's answers" or "the repeat links".
    SQLite writes one transaction at a time anyway. Call it inside a transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def submitted_before(queryset: models.QuerySet, *, actor: User, submission: Any) -> Any:
    """The record ``actor`` already created with this submission key, or None (also when there is no
    key). A record-creating service asks first and returns what it finds: a form or API request sent
    again (a retry after a lost answer, a double click) then saves nothing the second time.

    The actor's user row is locked until the caller's transaction ends, so two sends of one key at
    once take turns: the second finds what the first committed. ``queryset`` is the model's rows of
    that actor (``filter(registered_by=actor)``); it must be called inside a transaction."""
    if submission is None:
        return None
    User.objects.select_for_update(no_key=True).filter(pk=actor.pk).first()
    return queryset.filter(submission=submission).first()


def audit(
    *, actor: User, action: str, obj: models.Model, before: Any = None, after: Any = None
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        # One of the labelled actions (ValueError otherwise): the admin names each by its label, and
        # a code added at a call site alone would be shown as the code.
        action=AuditEntry.Action(action),
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        before=before,
        after=after,
    )


def notify(*, user: User, key: str, message: Any, params: dict | None = None, link: str = "") -> bool:
    """Create a notification once per (user, key). Returns True if it was new.

    ``message`` is a lazily translated text (``gettext_lazy``) formatted with ``params``, whose values
    may be lazy too (a choice's label). It is written in every language of the site: the page shows
    each reader theirs, not the language of whoever's action caused the notice (in eager mode a task
    runs in the requesting user's language)."""
    texts = notice_texts(message, params or {})
    _obj, created = Notification.objects.get_or_create(
        user=user,
        key=key,
        defaults={"message": texts[settings.LANGUAGE_CODE], "texts": texts, "link": link},
    )
    return created


def notification_mark_read(*, notification: Notification, actor: User) -> Notification:
    """Mark one of ``actor``'s notices read, once: one read already keeps the time it was first read
    (the conditional update, not a read-then-write, so two requests at once keep the first time too).
    Returns the notice as it now is."""
    # ``actor.notifications``: a notice of someone else's is never marked, whoever passed it.
    if notification.read_at is None:
        actor.notifications.filter(pk=notification.pk, read_at=None).update(read_at=timezone.now())
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_read(*, actor: User, up_to: int | None = None) -> int:
    """Mark ``actor``'s unread notices with an id up to ``up_to`` read (None: every one) and return how
    many. A reader or client marks what it listed (its newest id then), not a notice that arrived
    after and was never seen. Read ones keep the time they were first read."""
    unread = actor.notifications.filter(read_at=None)
    if up_to is not None:
        unread = unread.filter(pk__lte=up_to)
    return unread.update(read_at=timezone.now())


def notice_texts(message: Any, params: dict) -> dict[str, str]:
    """``message % params`` in each language of the site, cut to the notice's 300 characters."""
    texts = {}
    for code in [settings.LANGUAGE_CODE, *(c for c, _name in settings.LANGUAGES)]:
        with translation.override(code):
            # Lazy values (a choice's label) are rendered in this language; the rest as given.
            values = {k: str(v) if isinstance(v, Promise) else v for k, v in params.items()}
            # ``message % values``, not ``str(message) % values``: a plural (``ngettext_lazy`` with a
            # named number) picks its form from the values and cannot be rendered without them.
            texts[code] = (message % values if values else str(message))[:300]
    return texts


def client_ip(request) -> str | None:
    """Where a request came from, for the access log and the login lockout. Behind the TLS proxy
    (``BEHIND_TLS_PROXY``, as in docker-compose) REMOTE_ADDR is the proxy's for everyone: the address
    is then the last one of X-Forwarded-For, the one the proxy appended (earlier entries come from the
    client, unchecked), but only when the peer is the proxy (``FORWARDED_ALLOW_IPS``): any other peer
    wrote the header itself and is taken as its own address."""
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR")
    if from_trusted_proxy(request):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return peer


def from_trusted_proxy(request) -> bool:
    """Whether the request's forwarded headers (X-Forwarded-For, X-Forwarded-Proto) are the proxy's:
    behind the TLS proxy (``BEHIND_TLS_PROXY``) and from a peer in ``FORWARDED_ALLOW_IPS``, the rule
    gunicorn applies to the same variable. Any other peer wrote them itself."""
    return settings.BEHIND_TLS_PROXY and _is_proxy(
        request.META.get("REMOTE_ADDR"), tuple(settings.FORWARDED_ALLOW_IPS)
    )


@functools.lru_cache(maxsize=8)
def _proxy_networks(trusted: tuple[str, ...]) -> list:
    return [ipaddress.ip_network(item, strict=False) for item in trusted]


def _is_proxy(peer: str | None, trusted: tuple[str, ...]) -> bool:
    if "*" in trusted:
        return True
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return False
    return any(address in network for network in _proxy_networks(trusted))


@dataclass
class CalendarAdded:
    """What ``calendar_days_add`` did: the rows it added, and the dates it was given that the calendar
    already had, kept as they were entered (with what it was given for them)."""

    added: list[Holiday] = field(default_factory=list)
    kept: list[tuple[Holiday, bool, str]] = field(default_factory=list)  # (row, is_workday, name given)

    @property
    def differing(self) -> list[tuple[Holiday, bool, str]]:
        """The kept dates the calendar has as a working day where the notice has a holiday, or the
        opposite (a name written differently is not a difference that moves a deadline)."""
        return [(row, w, name) for row, w, name in self.kept if row.is_workday != w]


CALENDAR_ADD_LOCK_KEY = 0x686F6C69646179  # "holiday"


def _calendar_split(days: list[tuple[dt.date, bool, str]], rows: models.QuerySet) -> CalendarAdded:
    """``days`` as ``calendar_days_add`` takes them: the dates ``rows`` lack (unsaved rows) and those
    it has, which are kept."""
    existing = {row.date: row for row in rows.filter(date__in=[d for d, _w, _n in days])}
    result = CalendarAdded()
    for day, is_workday, name in days:
        if day in existing:
            result.kept.append((existing[day], is_workday, name))
        else:
            result.added.append(Holiday(date=day, is_workday=is_workday, name=name))
    return result


@dataclass
class CalendarPreview:
    """What entering a notice would do, shown before it is saved (the admin's preview): the dates it
    would add as runs, the dates the calendar has already (kept as entered) and those of them it has
    otherwise (a holiday for a working day, or another name), and how many running deadlines fall
    from the notice's first day to the end of its year: they are recounted with the new dates."""

    added: list[DayRun]
    added_count: int
    kept: list[tuple[Holiday, bool, str]]
    differing: list[tuple[Holiday, bool, str]]
    counted_from: dt.date
    deadlines: list[tuple[str, int]]


def calendar_days_preview(*, days: list[tuple[dt.date, bool, str]], year: int) -> CalendarPreview:
    """``calendar_days_add``'s split of ``days`` (a notice for ``year``), read and not written, with
    the running deadlines they may move: a constant number of queries (the dates in one, one per app
    storing deadlines, each on its deadline index)."""
    from governance.deadlines import running_deadlines_between
    from governance.periods import start_of_local_day

    split = _calendar_split(days, Holiday.objects.all())
    counted_from = min([dt.date(year, 1, 1), *(d for d, _w, _n in days)])
    return CalendarPreview(
        added=day_runs((row.date, row.is_workday, row.name) for row in split.added),
        added_count=len(split.added),
        kept=split.kept,
        differing=[(row, w, name) for row, w, name in split.kept if (row.is_workday, row.name) != (w, name)],
        counted_from=counted_from,
        deadlines=running_deadlines_between(
            start_of_local_day(counted_from), start_of_local_day(dt.date(year + 1, 1, 1))
        ),
    )


@transaction.atomic
def calendar_days_add(
    *, days: list[tuple[dt.date, bool, str]], actor: User | None = None, note: str = ""
) -> CalendarAdded:
    """Add the (date, is a working day, name) ``days`` the calendar lacks, in one transaction, keeping
    every date it has already: a correction made in the admin (a local extra holiday, a notice amended
    later) survives. With ``actor``, each added date gets an entry "added" in the admin's history,
    with ``note`` (the notice's source) as its message."""
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from governance.deadlines import calendar_edited

    # The dates missing are what is inserted, and a missing row cannot be locked: two notices
    # entered at once (the page and a scripted --notice) both found a date missing and the second
    # insert failed on the unique date. One writer at a time; the other then finds the dates there.
    advisory_xact_lock(CALENDAR_ADD_LOCK_KEY)
    result = _calendar_split(days, Holiday.objects.select_for_update(no_key=True))
    if result.added:
        # bulk_create sends no post_save: the change is announced here, once, in the same transaction,
        # so every process reloads its cached calendar and the running deadlines follow it.
        result.added = Holiday.objects.bulk_create(result.added)
        calendar_edited()
        if actor is not None:
            content_type = ContentType.objects.get_for_model(Holiday)
            LogEntry.objects.bulk_create(
                LogEntry(
                    user_id=actor.pk,
                    content_type=content_type,
                    object_id=str(row.pk),
                    object_repr=str(row)[:200],
                    action_flag=ADDITION,
                    change_message=note[:1000],
                )
                for row in result.added
            )
    return result
