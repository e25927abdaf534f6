"""Writes of the petitions app: registering a petition (with repeat detection), workflow actions and
reveals of petitioners' identity. Pages and the API call these; the state machine itself is
``Petition.transition``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from governance import pii
from governance.access import ancestor_paths, area_in_scope
from governance.deadlines import save_recomputed
from governance.models import (
    Area,
    Department,
    Membership,
    Notification,
    Role,
    User,
    next_number,
    record_id,
)
from governance.periods import receipt_day
from governance.retention import ERASED_REFUSAL
from governance.services import notify, personal_data_reveal, submitted_before
from petitions.models import (
    DEPARTMENT_ROLES,
    IN_PERSON_CHANNELS,
    MAX_GROUP_REPRESENTATIVES,
    MAX_NAMED_PETITIONERS,
    OFFICER_ROLES,
    Category,
    Petition,
    Petitioner,
    PetitionEvent,
    deadlines,
    due_soon_edge,
    group_min_persons,
    may_reveal,
    officer_departments,
    revealable_q,
)

MAX_PERSONS = 100000
# The oldest receipt time a registration takes: a letter found in a drawer, not a typing slip.
MAX_RECEIPT_AGE = dt.timedelta(days=3650)
# How far ahead of the server's clock a receipt time may be (a reception desk's clock).
RECEIPT_SLACK = dt.timedelta(minutes=5)


def registration_day(received_at: dt.datetime | None, now: dt.datetime) -> dt.date:
    """The day a new petition's area must be in service on (``governance.periods.receipt_day``)."""
    return receipt_day(received_at, now, ahead=RECEIPT_SLACK, back=MAX_RECEIPT_AGE)


def _clean_petitioners(
    rows: Iterable[dict], persons_count: int, channel: str = Petition.Channel.VISIT
) -> tuple[list[Petitioner], dict]:
    """Validate every petitioner; errors are keyed ``petitioners[i].field`` so the form and the API
    can point at the exact input. The cap of five representatives is the rule of a group *visit*
    (信访工作条例 2022: 多人采用走访形式...代表人数不超过5人); a joint letter, call or online message
    names its petitioners, up to ``MAX_NAMED_PETITIONERS``."""
    out: list[Petitioner] = []
    errors: dict[str, list[str]] = {}
    rows = [r for r in (rows or []) if any((str(v or "")).strip() for v in r.values())]
    if not rows:
        errors["petitioners"] = [_("Record at least one petitioner.")]
    elif channel in IN_PERSON_CHANNELS and len(rows) > MAX_GROUP_REPRESENTATIVES:
        errors["petitioners"] = [
            _("A group chooses at most %(n)d representatives.") % {"n": MAX_GROUP_REPRESENTATIVES}
        ]
    elif len(rows) > MAX_NAMED_PETITIONERS:
        errors["petitioners"] = [_("Record at most %(n)d petitioners.") % {"n": MAX_NAMED_PETITIONERS}]
    elif len(rows) > persons_count:
        errors["persons_count"] = [_("The number of persons is smaller than the petitioners recorded.")]
    for i, raw in enumerate(rows):
        key = f"petitioners[{i}]"
        name = (raw.get("name") or "").strip()
        id_number = (raw.get("id_number") or "").strip()
        phone = (raw.get("phone") or "").strip()
        address = (raw.get("address") or "").strip()
        if not name:
            errors[f"{key}.name"] = [_("Give the petitioner's name.")]
        elif len(name) > 100:
            errors[f"{key}.name"] = [_("The name is too long.")]
        if id_number:
            try:
                id_number = pii.validate_resident_id(id_number)
            except ValidationError as exc:
                errors[f"{key}.id_number"] = list(exc.messages)
        if phone:
            try:
                phone = pii.validate_phone(phone)
            except ValidationError as exc:
                errors[f"{key}.phone"] = list(exc.messages)
        if len(address) > 300:
            errors[f"{key}.address"] = [_("The address is too long.")]
        out.append(
            Petitioner(
                position=i,
                name=name,
                id_number=id_number,
                id_hash=pii.keyed_hash(id_number) if id_number else "",
                phone=phone,
                phone_hash=pii.keyed_hash(phone) if phone else "",
                address=address,
            )
        )
    return out, errors


def likely_repeats(
    *,
    category: str,
    area: Area,
    id_hashes: Iterable[str],
    phone_hashes: Iterable[str],
    user: User,
    exclude_pk: int | None = None,
    received_by: dt.datetime | None = None,
) -> QuerySet[Petition]:
    """Earlier petitions by the same person (ID or phone hash) about the same category in the same
    line of areas (the area, one above it or one inside it: the same matter may be registered at
    its community once and at its street the next time), open or closed however long ago (DOMAIN.md "Repeat petitions": the same matter while an earlier
    one is open or closed; one closed for good is never accepted again, so the link must stay
    possible): shown to the officer as likely repeats to confirm and link, newest first. Only those
    received by ``received_by`` (the new petition's receipt, when known): a letter registered days
    after it arrived is not the repeat of a visit that came after it.

    Served by the partial hash indexes on Petitioner (a person has few petitions), then the area's
    path prefix index. Only petitions whose petitioners ``user`` may reveal (``revealable_q``): an
    area above theirs (the city) can hold petitions outside their scope, whose numbers they must not
    learn, nor link to; and a match tells who brought the petition, so an administrator or a
    superuser, who may read it but reveal no one, is offered none (a petition officer links it)."""
    id_hashes = [h for h in id_hashes if h]
    phone_hashes = [h for h in phone_hashes if h]
    if not (id_hashes or phone_hashes) or not category or area is None:
        return Petition.objects.none()
    person = Q(pk__in=[])
    if id_hashes:
        person |= Q(petitioners__id_hash__in=id_hashes)
    if phone_hashes:
        person |= Q(petitioners__phone_hash__in=phone_hashes)
    qs = (
        Petition.objects.visible_to(user)
        .filter(revealable_q(user))
        .filter(person, category=category)
        .filter(Q(area__path__startswith=area.path) | Q(area__path__in=ancestor_paths([area.path])))
        .select_related("area")
        .distinct()
        .order_by("-received_at")
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if received_by is not None:
        # To the minute: the intake's receipt time has no seconds, and the same person may be
        # registered twice within one (the earlier one recorded at the moment of registration).
        qs = qs.filter(received_at__lt=received_by.replace(second=0, microsecond=0) + dt.timedelta(minutes=1))
    # ``revealable_q`` leaves out every petition complaining about the user's own unit (the petition
    # office itself may be one): typing a suspected complainant's ID number or phone would name the
    # complaint, a search for who complained about it. It answers as for someone who never petitioned.
    return qs


def log_repeat_matches(*, actor: User, matches: Iterable[Petition], ip_address: str | None = None) -> None:
    """A typed ID number or phone that matches petitioners names who brought each matched petition,
    as surely as a reveal: each match shown is written to the access log like one."""
    for petition in matches:
        personal_data_reveal(
            actor=actor,
            obj=petition,
            record=petition.code,
            fields=["id_number", "phone"],
            reason=gettext_lazy("repeat check at intake: a typed ID number or phone matched a petitioner"),
            ip_address=ip_address,
        )


def likely_repeats_of(petition: Petition, *, user: User) -> QuerySet[Petition]:
    """Likely repeats for a registered petition: earlier ones by the same people (hash match) that
    ``user`` may see."""
    hashes = list(petition.petitioners.values_list("id_hash", "phone_hash"))
    return likely_repeats(
        category=petition.category,
        area=petition.area,
        id_hashes=[h for h, _p in hashes],
        phone_hashes=[p for _h, p in hashes],
        user=user,
        exclude_pk=petition.pk,
        received_by=petition.received_at,
    ).exclude(pk__in=_repeats_of(petition))


def _repeats_of(petition: Petition) -> set[int]:
    """The petitions that repeat ``petition``, directly or along a chain (one query a link; chains
    are short). Two petitions of the same minute each matched the other as earlier: linking the
    first to the second, which was registered as its repeat, made a loop, and the matter counted
    in ``petitions_matters`` zero times."""
    found: set[int] = set()
    frontier = {petition.pk}
    while frontier:
        frontier = (
            set(Petition.objects.filter(repeat_of_id__in=frontier).values_list("pk", flat=True)) - found
        )
        found |= frontier
    return found


def _resolve_area(value: Any, actor: User, *, serving_on: dt.date) -> Area:
    if value in (None, ""):
        raise ValidationError({"area": [_("Give the area the petition concerns.")]})
    area = value if isinstance(value, Area) else Area.objects.filter(code=str(value)).first()
    # One answer for an area that does not exist and one outside the officer's responsibility
    # (DESIGN.md section 4): two told which codes exist in other districts. So does an area out of
    # service on the day the petition was received (``serving_on``: merged away before, or drawn for
    # later; docs/petitions.md); one merged away since is taken, it was the place concerned then.
    if area is None or not area.serves_on(serving_on) or not area_in_scope(actor, area, OFFICER_ROLES):
        raise ValidationError(
            {"area": [_("Unknown area %(a)s, or it is outside your responsibility.") % {"a": value}]}
        )
    return area


def _resolve_department(value: Any, field: str, actor: User) -> Department | None:
    """A department the actor may name (``routable_departments``, the intake page's list); one
    outside their scope answers as a missing one: its users would read the petition."""
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, Department) else record_id(value)
    dept = officer_departments(actor).filter(pk=pk).first() if pk is not None else None
    if dept is None:
        raise ValidationError({field: [_("Unknown department %(d)s.") % {"d": value}]})
    if not dept.is_active:
        raise ValidationError({field: [_("That department is no longer active.")]})
    return dept


def may_register(user: User) -> bool:
    """Is the user a petition officer (somewhere)? Where is checked per petition."""
    return bool(user.is_superuser or user.has_role(*OFFICER_ROLES))


def _validate_registration(
    *,
    actor: User,
    channel: str,
    category: str,
    content: str,
    area: Any,
    petitioners: list[dict],
    now: dt.datetime,
    received_at: dt.datetime | None = None,
    handling_type: str = Petition.HandlingType.CLAIM,
    persons_count: int | None = None,
    complained_unit: Any = None,
    repeat_of: Any = None,
    judge_repeat: bool = True,
) -> dict[str, Any]:
    """Every check of a registration, all of them at once: ValidationError names each field;
    otherwise the resolved values to save. ``repeat_of`` is judged last, on an otherwise valid
    registration."""
    if not may_register(actor):
        raise PermissionDenied(_("Only petition officers register petitions."))
    errors: dict[str, list[str]] = {}
    if channel not in Petition.Channel.values:
        errors["channel"] = [_("Choose the channel.")]
    if category not in Category.values:
        errors["category"] = [_("Choose a category.")]
    if handling_type not in Petition.HandlingType.values:
        errors["handling_type"] = [_("Choose the handling type.")]
    content = (content or "").strip()
    if len(content) < 5:
        errors["content"] = [_("Describe the petition (at least a sentence).")]
    received_at = received_at or now
    if received_at > now + RECEIPT_SLACK:
        errors["received_at"] = [_("The receipt time cannot be in the future.")]
    elif received_at < now - MAX_RECEIPT_AGE:
        errors["received_at"] = [_("The receipt time is too far in the past.")]
    try:
        persons = int(persons_count if persons_count not in (None, "") else max(1, len(petitioners or [])))
    except (TypeError, ValueError):
        persons = 0
    if not 1 <= persons <= MAX_PERSONS:
        errors["persons_count"] = [_("Give the number of persons (1 or more).")]
        persons = max(1, len(petitioners or []))
    try:
        # The area as it was on the day the petition came in (today when that time is refused).
        area_obj = _resolve_area(area, actor, serving_on=registration_day(received_at, now))
    except ValidationError as exc:
        errors.update(exc.message_dict)
        area_obj = None
    try:
        unit = _resolve_department(complained_unit, "complained_unit", actor)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        unit = None
    rows, row_errors = _clean_petitioners(petitioners, persons, channel)
    for key, msgs in row_errors.items():
        errors.setdefault(key, msgs)
    earlier = None
    # Whether it repeats an earlier one is judged on a valid category and area: one refused is
    # already reported, and a second error here ("not a likely repeat") would be a guess. And only
    # on a registration that is otherwise valid and about to be saved (``judge_repeat``): a refused
    # one (or the check-only run of a refused form) that answered it told, unlogged and saving
    # nothing, whether the typed ID number or phone brought the named petition.
    if (
        judge_repeat
        and not errors
        and repeat_of not in (None, "")
        and area_obj is not None
        and category in Category.values
    ):
        earlier = (
            repeat_of
            if isinstance(repeat_of, Petition)
            else Petition.objects.filter(code=str(repeat_of)).first()
        )
        matches = likely_repeats(
            category=category,
            area=area_obj,
            id_hashes=[r.id_hash for r in rows],
            phone_hashes=[r.phone_hash for r in rows],
            user=actor,
            received_by=None if "received_at" in errors else received_at,
        )
        # Only a petition that really matches may be linked: no linking to arbitrary numbers.
        if earlier is None or not matches.filter(pk=earlier.pk).exists():
            errors["repeat_of"] = [_("That petition is not a likely repeat of this one.")]
    if errors:
        raise ValidationError(errors)
    return {
        "content": content,
        "received_at": received_at,
        "persons": persons,
        "area": area_obj,
        "unit": unit,
        "rows": rows,
        "earlier": earlier,
    }


def petition_register_check(*, actor: User, **fields: Any) -> None:
    """Run every check ``petition_register`` makes (same keyword arguments) and save nothing: a page whose own
    form already found errors reports these with them, in one round rather than two."""
    _validate_registration(actor=actor, now=timezone.now(), judge_repeat=False, **fields)


@transaction.atomic
def petition_register(
    *,
    actor: User,
    channel: str,
    category: str,
    content: str,
    area: Any,
    petitioners: list[dict],
    received_at: dt.datetime | None = None,
    handling_type: str = Petition.HandlingType.CLAIM,
    persons_count: int | None = None,
    complained_unit: Any = None,
    repeat_of: Any = None,
    submission: uuid.UUID | None = None,
) -> Petition:
    """Register a petition: validate everything first (errors name the field, nothing is saved),
    take the next PET number in this transaction, compute the route deadline, store petitioners
    encrypted with their hashes, and link it to an earlier petition when the officer confirmed a
    repeat. The registration is the first event of the timeline. A registration sent again with the
    ``submission`` key of a petition its registrar already saved returns that petition, saving nothing."""
    done = submitted_before(Petition.objects.filter(registered_by=actor), actor=actor, submission=submission)
    if done is not None:
        return done
    now = timezone.now()
    valid = _validate_registration(
        actor=actor,
        channel=channel,
        category=category,
        content=content,
        area=area,
        petitioners=petitioners,
        received_at=received_at,
        handling_type=handling_type,
        persons_count=persons_count,
        complained_unit=complained_unit,
        repeat_of=repeat_of,
        now=now,
    )
    content, received_at, persons = valid["content"], valid["received_at"], valid["persons"]
    area_obj, unit, rows, earlier = valid["area"], valid["unit"], valid["rows"], valid["earlier"]
    petition = Petition(
        code=next_number("PET", received_at),
        channel=channel,
        received_at=received_at,
        handling_type=handling_type,
        category=category,
        content=content,
        area=area_obj,
        persons_count=persons,
        is_group=persons >= group_min_persons(),
        complained_unit=unit,
        repeat_of=earlier,
        is_repeat=earlier is not None,
        registered_by=actor,
        registered_at=now,
        route_due_at=deadlines.route_due(received_at),
        submission=submission,
    )
    petition.due_at = petition.route_due_at
    # The key's uniqueness (the one constraint) was checked under the lock above.
    petition.full_clean(exclude=["code", "route_due_at"], validate_constraints=False)
    petition.save()
    for row in rows:
        row.petition = petition
    Petitioner.objects.bulk_create(rows)
    PetitionEvent.objects.create(
        petition=petition,
        actor=actor,
        at=now,
        action="register",
        from_status="",
        to_status=petition.status,
        data={"repeat_of": earlier.code if earlier else None, "persons": persons},
    )
    return petition


@transaction.atomic
def petition_transition(
    *, petition: Petition, actor: User, action: str, note: str = "", **fields: Any
) -> PetitionEvent:
    """One workflow action (the table on ``Petition`` decides whether it is allowed), and the notice
    to whoever now owes the next step: the department a petition is routed to (its written notice
    of acceptance is due in 15 days), and the petition office of the area when the department
    returns it (its 15 days to route keep running), and the department an accepted petition is
    handed to (``reroute``: its reply is due by the same day). The notices are rows written in this
    transaction (no broker), once per (user, event), and name nobody but the petition."""
    event = petition.transition(action=action, actor=actor, note=note, **fields)
    if event.repeated:
        return event  # the step sent twice: done by the first send, its notices with it
    if action in ("assign", "reroute"):
        # Routed: the department owes its written notice of acceptance. Handed on accepted, from a
        # department with nobody left: the new one owes the reply, by the same day.
        _notify_step(
            petition,
            event,
            Q(department_id=petition.department_id, role__in=DEPARTMENT_ROLES),
            # Its 5 working days to return it too: the department learned of them when the return
            # was refused after they ended.
            gettext_lazy(
                "Petition %(code)s was routed to your department: return it by %(return_due)s if it is "
                "not yours to handle; tell the petitioner by %(due)s whether it is accepted."
            )
            if action == "assign"
            else gettext_lazy(
                "Petition %(code)s, accepted by a department with nobody left to act on it, was handed "
                "to your department: its written reply is due by %(due)s."
            ),
            due=petition.acknowledge_due_at if action == "assign" else petition.reply_due_at,
            actor=actor,
            return_due=petition.return_due_at if action == "assign" else None,
        )
    elif action == "return":
        paths = [petition.area.path, *ancestor_paths([petition.area.path])]
        # The 15 days to route may have ended while the department held it (routed on the 14th
        # day, returned within its 5 working days): "route it again by" a day gone by misread.
        _notify_step(
            petition,
            event,
            Q(role=Role.PETITION_OFFICER, area__path__in=paths),
            gettext_lazy("Petition %(code)s was returned as wrongly routed: route it again by %(due)s.")
            if event.at <= petition.route_due_at
            else gettext_lazy(
                "Petition %(code)s was returned as wrongly routed; its 15 days to route ended on %(due)s: "
                "route it again now."
            ),
            due=petition.route_due_at,
            actor=actor,
        )
    return event


def _notify_step(
    petition: Petition,
    event: PetitionEvent,
    who: Q,
    message: Any,
    *,
    due: dt.datetime,
    actor: User,
    return_due: dt.datetime | None = None,
) -> None:
    users = User.objects.filter(
        pk__in=Membership.objects.filter(who).values("user_id"), is_active=True
    ).exclude(pk=actor.pk)
    params = {"code": petition.code, "due": timezone.localtime(due).strftime("%Y-%m-%d")}
    if return_due is not None:
        params["return_due"] = timezone.localtime(return_due).strftime("%Y-%m-%d")
    for user in users:
        notify(
            user=user,
            key=f"petition-{event.action}:{petition.code}:{event.pk}",
            message=message,
            params=params,
            link=reverse("petitions-detail", args=[petition.code]),
        )


def petitioner_reveal(
    *, petition: Petition, petitioner: Petitioner, actor: User, reason: str, ip_address: str | None = None
) -> dict[str, str]:
    """Unmask one petitioner for an officer handling the item; the reveal is logged with the reason.
    Anyone else (the unit complained about above all) gets 403 and nothing is logged."""
    if petitioner.petition_id != petition.pk:
        raise PermissionDenied(_("That petitioner does not belong to this petition."))
    if not may_reveal(actor, petition):
        raise PermissionDenied(_("Only the officers handling this petition may see who brought it."))
    if not petitioner.has_personal_data:
        # Refused before the log is written: there is nobody's data to have seen.
        raise ValidationError({"petitioner": [ERASED_REFUSAL]})
    personal_data_reveal(
        actor=actor,
        obj=petitioner,
        record=petition.code,
        fields=list(Petitioner.PERSONAL_FIELDS),
        reason=reason,
        ip_address=ip_address,
        limited=True,
    )
    return {f: getattr(petitioner, f) for f in Petitioner.PERSONAL_FIELDS}


# How long after a deadline passed an item still gets its "overdue" notice when no run gave it
# one: a run missed while the broker was down, or a letter registered after its routing limit.
OVERDUE_NOTICE_DAYS = 7

# The step a deadline notice is about, by the petition's status (``Petition.RUNNING_DUE_FIELD``):
# "the step due ... has not been done" left the reader to open the petition to learn whether a
# routing, a notice or a reply was owed.
NOTICE_STEPS = {
    Petition.Status.REGISTERED: pgettext_lazy("late petition step", "the routing"),
    Petition.Status.ROUTED: pgettext_lazy("late petition step", "the written notice of acceptance"),
    Petition.Status.ACCEPTED: pgettext_lazy("late petition step", "the written reply"),
    Petition.Status.UNDER_REVIEW: pgettext_lazy("late petition step", "the review decision"),
    Petition.Status.UNDER_RE_REVIEW: pgettext_lazy("late petition step", "the re-review decision"),
}


def petition_notify_deadlines(now: dt.datetime | None = None) -> int:
    """Tell the people responsible for the running step when it is in its last 3 days and when it
    is overdue: the department's users for acknowledgement and reply, the petition officers of the
    area for routing and reviews.

    Every item due within 3 days or overdue for less than ``OVERDUE_NOTICE_DAYS`` is read (indexed
    range on due_at), not only those that crossed a line since the last run: a step may start inside
    its last 3 days or after its deadline (a letter registered 14 days after it arrived, a review
    request recorded late) and never cross one. Notices already given are read in one query and
    skipped, so an hourly run stays a handful of queries; ``notify`` is idempotent per (user, key),
    so a run repeated or overlapping notifies once. Returns the number of notifications created."""
    now = now or timezone.now()
    soon_edge = due_soon_edge(now)
    rows = list(
        Petition.objects.filter(
            due_at__gt=now - dt.timedelta(days=OVERDUE_NOTICE_DAYS), due_at__lte=soon_edge
        ).values("pk", "code", "status", "due_at", "department_id", "area__path")
    )
    if not rows:
        return 0
    dept_users: dict[int, list[int]] = {}
    for user_id, dept_id in Membership.objects.filter(
        department_id__in={r["department_id"] for r in rows if r["department_id"]},
        role__in=DEPARTMENT_ROLES,
        user__is_active=True,
    ).values_list("user_id", "department_id"):
        dept_users.setdefault(dept_id, []).append(user_id)
    officers = list(
        Membership.objects.filter(role=Role.PETITION_OFFICER, user__is_active=True).values_list(
            "user_id", "area__path"
        )
    )
    due: list[tuple[int, str, dict]] = []  # (user, key, row) of every notice the rows call for
    for r in rows:
        overdue = r["due_at"] <= now
        recipients = []
        if r["status"] in ("routed", "accepted"):
            recipients = dept_users.get(r["department_id"], [])
        if not recipients:
            # The office's step, or a department whose people have all left since it was routed
            # (the notice went to nobody): the officers of the area, who may take it back.
            recipients = [uid for uid, path in officers if r["area__path"].startswith(path)]
        stamp = r["due_at"].isoformat()
        key = f"petition:{r['code']}:{r['status']}:{stamp}:{'overdue' if overdue else 'soon'}"
        due.extend((uid, key, r) for uid in set(recipients))
    given = set(
        Notification.objects.filter(
            user_id__in={uid for uid, _k, _r in due}, key__in={key for _u, key, _r in due}
        ).values_list("user_id", "key")
    )
    due = [(uid, key, r) for uid, key, r in due if (uid, key) not in given]
    if not due:
        return 0
    users = {u.pk: u for u in User.objects.filter(pk__in={uid for uid, _k, _r in due})}
    created = 0
    for uid, key, r in due:
        if r["due_at"] <= now:
            message = gettext_lazy("Petition %(code)s is overdue: %(step)s was due by %(due)s.")
        else:
            message = gettext_lazy("Petition %(code)s: %(step)s is due within 3 days, by %(due)s.")
        # A limit ends with its day (24:00, ``deadlines``): the date alone, as the pages give it;
        # "2026-12-01 23:59" read as a time of day to keep.
        params = {
            "code": r["code"],
            "step": NOTICE_STEPS[r["status"]],
            "due": timezone.localtime(r["due_at"]).strftime("%Y-%m-%d"),
        }
        if uid in users and notify(
            user=users[uid],
            key=key,
            message=message,
            params=params,
            link=reverse("petitions-detail", args=[r["code"]]),
        ):
            created += 1
    return created


def petition_notify_unstaffed() -> int:
    """Tell the petition officers of the area of each petition with a department (routed, or
    accepted) whose people have all left that they may take it back (``models.office_takes_back``):
    they heard of it only from its deadline notices, in the step's last 3 days. Once per petition
    and department; hourly, with the deadline notices. One query finds the petitions (index
    petition_department), whatever the number of departments. Returns the notifications created."""
    staffed = Membership.objects.filter(
        department_id=OuterRef("department_id"), role__in=DEPARTMENT_ROLES, user__is_active=True
    )
    rows = list(
        Petition.objects.filter(status__in=[Petition.Status.ROUTED, Petition.Status.ACCEPTED])
        .exclude(department=None)
        .exclude(Exists(staffed))
        .values("code", "department_id", "department__name", "area__path")
    )
    if not rows:
        return 0
    officers = list(
        Membership.objects.filter(role=Role.PETITION_OFFICER, user__is_active=True).values_list(
            "user_id", "area__path"
        )
    )
    users = {u.pk: u for u in User.objects.filter(pk__in={uid for uid, _path in officers})}
    created = 0
    for r in rows:
        for uid in {uid for uid, path in officers if r["area__path"].startswith(path)}:
            created += notify(
                user=users[uid],
                key=f"petition-unstaffed:{r['code']}:{r['department_id']}",
                message=gettext_lazy(
                    "Petition %(code)s is with %(department)s, which has nobody left to act on it: "
                    "take it back and hand it to another department."
                ),
                params={"code": r["code"], "department": r["department__name"]},
                link=reverse("petitions-detail", args=[r["code"]]),
            )
    return created


def petition_refresh_deadlines(**_signal) -> int:
    """``governance.deadlines.calendar_changed``: the deadlines of the steps still running (and the
    petitioners' review windows not yet used) recomputed with the calendar as it is now."""
    s = Petition.Status
    running = Petition.objects.filter(
        Q(status__in=[s.REGISTERED, s.ROUTED, s.ACCEPTED, s.UNDER_REVIEW, s.UNDER_RE_REVIEW])
        | Petition.REVIEW_WINDOW_OPEN
        | Petition.RE_REVIEW_WINDOW_OPEN
    ).only(
        "status",
        "received_at",
        "routed_at",
        "accepted_at",
        "extended_days",
        "replied_at",
        "reviewed_at",
        "review_requested_at",
        "re_review_requested_at",
        "closed_for_good",
        "due_at",
        "route_due_at",
        "acknowledge_due_at",
        "return_due_at",
        "reply_due_at",
        "review_due_at",
        "re_review_due_at",
        "review_request_until",
        "re_review_request_until",
    )
    return save_recomputed(running, Petition.running_deadlines)


def petition_deadlines_between(*, start: dt.datetime, end: dt.datetime, **_signal) -> list[tuple[str, int]]:
    """``governance.deadlines.deadlines_between``: the petitions whose running step is due in the
    span (index petition_running_due), and those whose petitioner's window to ask for a review or a
    re-review, not yet used, ends in it (indexes petition_review_window, petition_re_review_window)."""
    running = Petition.objects.filter(
        status__in=list(Petition.RUNNING_DUE_FIELD), due_at__gte=start, due_at__lt=end
    )
    windows = Petition.objects.filter(
        (Petition.REVIEW_WINDOW_OPEN & Q(review_request_until__gte=start, review_request_until__lt=end))
        | (
            Petition.RE_REVIEW_WINDOW_OPEN
            & Q(re_review_request_until__gte=start, re_review_request_until__lt=end)
        )
    )
    return [
        (gettext_lazy("open petitions"), running.count()),
        (gettext_lazy("petitioners' windows to ask for a review"), windows.count()),
    ]


def petition_department_closing(*, department: Any, **_signal) -> str | None:
    """``governance.models.department_closing``: why ``department`` may not be deactivated yet, when
    petitions routed to it still wait for its notice of acceptance or its written reply (their legal
    deadlines run whatever happens to the department), else None. Replied and later petitions need
    nothing more of it: reviews are decided by the office."""
    waiting = Petition.objects.filter(
        department=department, status__in=(Petition.Status.ROUTED, Petition.Status.ACCEPTED)
    ).count()
    if not waiting:
        return None
    return ngettext(
        "%(n)d petition routed to this department is still waiting for its acceptance or reply: its "
        "people answer it (or return it, when wrongly routed) first; once nobody is left in the "
        "department, the petition office takes it back and routes it to another.",
        "%(n)d petitions routed to this department are still waiting for its acceptance or reply: its "
        "people answer them (or return them, when wrongly routed) first; once nobody is left in the "
        "department, the petition office takes them back and routes them to another.",
        waiting,
    ) % {"n": waiting}
