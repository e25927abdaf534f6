"""Writes of the mediation app: registering a case (also from a grid incident), workflow actions,
sessions, and reveals of parties' personal data. Pages and the API call these; the state machine
itself is ``DisputeCase.transition``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from governance import pii
from governance.access import area_in_scope
from governance.deadlines import save_recomputed
from governance.models import Area, Role, User, next_number, record_id
from governance.periods import end_of_local_day, receipt_day, start_of_local_day
from governance.retention import ERASED_REFUSAL
from governance.services import in_site_language, notify, personal_data_reveal, submitted_before
from governance.workflow import TransitionNotAllowed
from mediation.models import (
    ACTION_LABELS,
    LIMIT_WARN_DAYS,
    PLACEHOLDER_NAME,
    REFERRER_ROLES,
    DisputeCase,
    DisputeCategory,
    DisputeEvent,
    DisputeParty,
    DisputeSession,
    MediationOrganisation,
    acting_members,
    confirmation_window_end,
    may_reveal,
    member_organisation_ids,
)

# Who may register a case: mediators (intake at their organisation) and handlers (referrals, e.g. a
# grid incident of a dispute category).
REGISTER_ROLES = {Role.MEDIATOR, Role.HANDLER, Role.ADMIN}
MAX_PARTIES = 20


def _resolve_category(value: Any) -> DisputeCategory:
    if isinstance(value, DisputeCategory):
        if value.is_active:
            return value
    elif value not in (None, ""):
        lookup = Q(code=str(value))
        if record_id(value) is not None:
            lookup |= Q(pk=record_id(value))
        found = DisputeCategory.objects.filter(lookup, is_active=True).first()
        if found is not None:
            return found
    else:
        raise ValidationError({"category": [_("Choose a category.")]})
    raise ValidationError({"category": [_("Unknown category %(c)s.") % {"c": value}]})


# A registration's receipt time: a few minutes ahead of the server's clock (a desk's clock) is taken,
# later is refused; so is one more than ten years back (a typing error, not a case).
RECEIPT_SLACK = dt.timedelta(minutes=10)
MAX_RECEIPT_AGE = dt.timedelta(days=3650)


def registration_day(received_at: dt.datetime | None, now: dt.datetime) -> dt.date:
    """The day a new case's place must be in service on (``governance.periods.receipt_day``)."""
    return receipt_day(received_at, now, ahead=RECEIPT_SLACK, back=MAX_RECEIPT_AGE)


def _resolve_area(
    value: Any, actor: User, organisation: MediationOrganisation | None, *, serving_on: dt.date | None
) -> Area:
    if value in (None, ""):
        raise ValidationError({"area": [_("Give the grid or community where the dispute arose.")]})
    area = value if isinstance(value, Area) else Area.objects.filter(code=str(value)).first()
    # One answer for a place that does not exist and one outside the user's area (DESIGN.md
    # section 4): two told where grids and communities lie that the user may not see.
    unknown = ValidationError(
        {"area": [_("Unknown grid or community %(a)s, or it is outside your area.") % {"a": value}]}
    )
    # A place out of service on the day the dispute was received (``serving_on``: merged away
    # before, or drawn for later) answers as a missing one, as a report naming such a grid does
    # (docs/mediation.md). One merged away since is taken: the dispute arose there while it served.
    # A case from an incident keeps the incident's grid (``serving_on=None``): it was checked then.
    if area is None or area.level not in (Area.Level.GRID, Area.Level.COMMUNITY):
        raise unknown
    if serving_on is not None and not area.serves_on(serving_on):
        raise unknown
    # A mediator registers for their organisation, which may serve a wider area than their own
    # membership (a district centre), so the organisation's area counts as scope too, but only for
    # its members: naming someone else's organisation must not widen anyone's reach.
    member_reach = (
        organisation is not None
        and organisation.pk in member_organisation_ids(actor)
        and area.path.startswith(organisation.area.path)
    )
    if not (member_reach or area_in_scope(actor, area, REGISTER_ROLES)):
        raise unknown
    return area


def _resolve_organisation(value: Any, actor: User) -> MediationOrganisation:
    """The organisation that receives the case. A mediator registers for their own organisation (the
    only one, or the one named); a handler refers to an organisation in their area or one serving
    the place (checked with the area in ``_check_referral``). A mediator without an organisation has
    none to register for."""
    mine = member_organisation_ids(actor)
    if value in (None, ""):
        if len(mine) == 1:
            return MediationOrganisation.objects.select_related("area").get(pk=next(iter(mine)))
        if len(mine) > 1:
            raise ValidationError({"organisation": [_("Choose which of your organisations takes the case.")]})
        # A referral must land somewhere: an organisation-less case would be seen by no mediator.
        raise ValidationError({"organisation": [_("Choose the organisation that takes the case.")]})
    org_id = value.pk if isinstance(value, MediationOrganisation) else value
    org = (
        MediationOrganisation.objects.filter(pk=record_id(org_id), is_active=True)
        .select_related("area")
        .first()
        if record_id(org_id) is not None
        else None
    )
    if org is None:
        raise _unknown_organisation(value)
    if org.pk not in mine and not actor.has_role(Role.HANDLER, Role.ADMIN) and not actor.is_superuser:
        raise ValidationError({"organisation": [_("A mediator registers cases for their own organisation.")]})
    return org


def _check_referral(org: MediationOrganisation, area: Area, actor: User) -> None:
    """The organisation serves the place (its area contains it), or a referrer (a handler or admin)
    sends the case to one in their own area: never to another district's. A mediator registers only
    within their organisation's area: their own role's wider reach (a street mediator who sits on a
    community's committee) does not send that committee a dispute from the next community."""
    if actor.is_superuser or area.path.startswith(org.area.path):
        return
    if area_in_scope(actor, org.area, REFERRER_ROLES):
        return
    if org.pk in member_organisation_ids(actor):
        raise ValidationError(
            {
                "area": [
                    _(
                        "%(area)s lies outside the area %(org)s serves: choose one of your organisations "
                        "that serves it."
                    )
                    % {"area": area.name, "org": org.name}
                ]
            }
        )
    raise _unknown_organisation(org.pk)


def _unknown_organisation(value: Any) -> ValidationError:
    # The same for an organisation that does not exist and one outside the referrer's area.
    return ValidationError(
        {"organisation": [_("Unknown organisation %(o)s, or it is outside your area.") % {"o": value}]}
    )


def _clean_parties(parties: Iterable[dict]) -> tuple[list[DisputeParty], dict[str, list[str]]]:
    """Validate every party; errors are keyed ``parties[i].field`` so the form/API can point at them."""
    out: list[DisputeParty] = []
    errors: dict[str, list[str]] = {}
    parties = list(parties or [])
    if len(parties) < 2:
        errors["parties"] = [_("A mediation needs at least two parties.")]
    if len(parties) > MAX_PARTIES:
        errors["parties"] = [_("At most %(n)d parties.") % {"n": MAX_PARTIES}]
    elif len(parties) >= 2 and (side := _one_sided([(p.get("role") or "").strip() for p in parties])):
        errors["parties"] = [side]
    seen: dict[str, int] = {}
    for i, raw in enumerate(parties):
        key = f"parties[{i}]"
        role = (raw.get("role") or "").strip()
        name = (raw.get("name") or "").strip()
        id_number = (raw.get("id_number") or "").strip()
        phone = (raw.get("phone") or "").strip()
        address = (raw.get("address") or "").strip()
        if role not in DisputeParty.PartyRole.values:
            errors[f"{key}.role"] = [_("Choose applicant, respondent or other party.")]
        if not name:
            errors[f"{key}.name"] = [_("Give the party's name.")]
        elif len(name) > 100:
            errors[f"{key}.name"] = [_("The name is too long.")]
        if id_number:
            try:
                id_number = pii.validate_resident_id(id_number)
            except ValidationError as exc:
                errors[f"{key}.id_number"] = exc.messages
            else:
                if id_number in seen:
                    errors[f"{key}.id_number"] = [_same_person(seen[id_number])]
                seen.setdefault(id_number, i)
        if phone:
            try:
                phone = pii.validate_phone(phone)
            except ValidationError as exc:
                errors[f"{key}.phone"] = exc.messages
        if len(address) > 300:
            errors[f"{key}.address"] = [_("The address is too long.")]
        out.append(
            DisputeParty(
                role=role,
                name=name,
                id_number=id_number,
                id_hash=pii.keyed_hash(id_number) if id_number else "",
                phone=phone,
                address=address,
                position=i,
            )
        )
    return out, errors


def _one_sided(roles: list[str]) -> str | None:
    """Why parties in these roles are not a dispute, or None. Mediation needs both parties (DOMAIN.md):
    applicants alone, or respondents alone, have nobody to settle with. "Other party" is either side
    (a case the committee takes up on its own initiative often names both neighbours so)."""
    kinds = set(roles)
    if kinds == {DisputeParty.PartyRole.APPLICANT}:
        return _(
            "A dispute has two sides: name the respondent (or the other party) as well as the applicants."
        )
    if kinds == {DisputeParty.PartyRole.RESPONDENT}:
        return _(
            "A dispute has two sides: name the applicant (or the other party) as well as the respondents."
        )
    return None


def _same_person(position: int) -> str:
    return _("The same ID number is given for party %(n)d: one person is one party.") % {"n": position + 1}


def may_register(user: User) -> bool:
    """Does the user hold a role that registers cases (somewhere)? Where is checked per case."""
    return bool(user.is_superuser or user.has_role(*REGISTER_ROLES) or member_organisation_ids(user))


def _validate_registration(
    *,
    actor: User,
    category: Any,
    area: Any,
    origin: str,
    description: str,
    parties: Iterable[dict],
    now: dt.datetime,
    received_at: dt.datetime | None = None,
    organisation: Any = None,
    amount: Any = None,
    persons_involved: int | None = None,
    incident: Any = None,
    referral_reference: str = "",
    **_saved_as_given: Any,  # risk flags: nothing to check
) -> dict[str, Any]:
    """Every check of a registration, all of them at once: ValidationError maps field -> messages;
    otherwise the resolved values to save."""
    if not may_register(actor):
        raise PermissionDenied(_("Your role may not register dispute cases."))
    errors: dict[str, list[str]] = {}
    org = None
    try:
        org = _resolve_organisation(organisation, actor)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    category_obj = None
    try:
        category_obj = _resolve_category(category)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    received_at = received_at or now
    if received_at > now + RECEIPT_SLACK:
        errors["received_at"] = [_("The time received cannot be in the future.")]
    elif received_at < now - MAX_RECEIPT_AGE:  # as for petitions: a typing error, not a case
        errors["received_at"] = [_("The receipt time is too far in the past.")]
    area_obj = None
    try:
        serving_on = None if incident is not None else registration_day(received_at, now)
        area_obj = _resolve_area(area, actor, org, serving_on=serving_on)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if org is not None and area_obj is not None:
        try:
            _check_referral(org, area_obj, actor)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if origin not in DisputeCase.Origin.values:
        errors["source"] = [
            _("Unknown source %(s)s; expected one of: %(all)s")
            % {"s": origin, "all": ", ".join(DisputeCase.Origin.values)}
        ]
    elif origin == DisputeCase.Origin.GRID_INCIDENT and incident is None:
        errors["source"] = [_("A case from a grid incident is created from the incident's page.")]
    elif (referral_reference or "").strip() and origin not in DisputeCase.REFERRAL_ORIGINS:
        # The committee's own initiative and a party's application have no referring record: a number
        # kept there read as a referral's (docs/mediation.md "The referring record belongs to a referral").
        errors["referral_reference"] = [_("Only a referred case has a referring record.")]
    description = (description or "").strip()
    if not description:
        errors["description"] = [_("Describe the dispute.")]
    if amount not in (None, ""):
        try:
            amount = Decimal(str(amount))
            if amount < 0 or not amount.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ArithmeticError):
            errors["amount"] = [_("Enter the amount in yuan (not negative).")]
    else:
        amount = None
    party_rows, party_errors = _clean_parties(parties)
    errors.update(party_errors)
    if persons_involved in (None, ""):
        persons_involved = max(len(party_rows), 2)
    elif int(persons_involved) < len(party_rows):
        errors["persons_involved"] = [_("At least as many people as parties are involved.")]
    if errors:
        raise ValidationError(errors)
    return {
        "organisation": org,
        "category": category_obj,
        "area": area_obj,
        "description": description,
        "received_at": received_at,
        "amount": amount,
        "parties": party_rows,
        "persons_involved": int(persons_involved),
    }


def dispute_register_check(*, actor: User, **fields: Any) -> None:
    """Run every check ``dispute_register`` makes (same keyword arguments) and save nothing: a page whose own
    form already found errors reports these with them, in one round rather than two."""
    _validate_registration(actor=actor, now=timezone.now(), **fields)


@transaction.atomic
def dispute_register(
    *,
    actor: User,
    category: Any,
    area: Any,
    origin: str,
    description: str,
    parties: Iterable[dict],
    received_at: dt.datetime | None = None,
    organisation: Any = None,
    referral_reference: str = "",
    amount: Any = None,
    persons_involved: int | None = None,
    risk_violence: bool = False,
    risk_group: bool = False,
    incident: Any = None,
    submission: uuid.UUID | None = None,
) -> DisputeCase:
    """Register a new case. Everything is validated before the number is taken (no gaps, nothing
    saved on bad input); ValidationError maps field -> messages. A registration sent again with the
    ``submission`` key of a case its registrar already saved returns that case and saves nothing."""
    done = submitted_before(
        DisputeCase.objects.filter(registered_by=actor), actor=actor, submission=submission
    )
    if done is not None:
        return done
    now = timezone.now()
    valid = _validate_registration(
        actor=actor,
        category=category,
        area=area,
        origin=origin,
        description=description,
        parties=parties,
        received_at=received_at,
        organisation=organisation,
        amount=amount,
        persons_involved=persons_involved,
        incident=incident,
        referral_reference=referral_reference,
        now=now,
    )
    org, category_obj, area_obj = valid["organisation"], valid["category"], valid["area"]
    description, received_at, amount = valid["description"], valid["received_at"], valid["amount"]
    party_rows, persons_involved = valid["parties"], valid["persons_involved"]

    case = DisputeCase(
        code=next_number("DSP", now),
        category=category_obj,
        origin=origin,
        referral_reference=(referral_reference or "").strip()[:60],
        incident=incident,
        area=area_obj,
        description=description,
        amount=amount,
        persons_involved=int(persons_involved),
        risk_violence=bool(risk_violence),
        risk_group=bool(risk_group),
        received_at=received_at,
        registered_by=actor,
        organisation=org,
        status=DisputeCase.Status.REGISTERED,
        submission=submission,
    )
    case.full_clean(validate_unique=False, validate_constraints=False)  # the number is unique by construction
    case.save()
    for p in party_rows:
        p.case = case
    DisputeParty.objects.bulk_create(party_rows)
    DisputeEvent.objects.create(
        case=case,
        actor=actor,
        at=now,
        action="register",
        to_status=case.status,
        organisation=org,
        data={"origin": origin, "incident": getattr(incident, "code", None)},
    )
    if org is not None and org.pk not in member_organisation_ids(actor):
        _notify_intake(case, actor, "dispute-referred")
    return case


def incident_done_message(incident: Any) -> str:
    """Why a closed (or closed and rated) incident is not turned into a case: its handling is over and
    its result counted (docs/mediation.md, the conversion of grid incidents)."""
    return _(
        "Incident %(code)s is closed: its handling is finished, so it is no longer turned into a "
        "mediation case. If the parties still disagree, register their dispute as a new case."
    ) % {"code": incident.code}


@transaction.atomic
def dispute_from_incident(
    *,
    actor: User,
    incident: Any,
    organisation: Any = None,
    category: Any = None,
    parties: Iterable[dict] = (),
) -> DisputeCase:
    """Turn a grid incident of a dispute category into a case in one step. The case keeps the
    incident (``case.incident``; the incident page reads it back through the selector), takes its
    grid, description and number as the referring record. An incident converts once."""
    from grids.models import Incident

    # Lock the incident row so two people converting at once create one case, not two.
    incident = (
        Incident.objects.select_for_update(of=("self",), no_key=True)
        .select_related("category", "grid")
        .get(pk=incident.pk)
    )
    if not incident.category.is_dispute:
        raise ValidationError({"incident": [_("Only an incident of a dispute category becomes a case.")]})
    existing = DisputeCase.objects.filter(incident=incident).first()
    if existing is not None:
        raise ValidationError(
            {"incident": [_("This incident is already case %(code)s.") % {"code": existing.code}]}
        )
    if incident.is_done:
        raise ValidationError({"incident": [incident_done_message(incident)]})
    parties = list(parties or [])
    if not parties:
        # The incident does not name the parties; the mediator completes them at intake. Placeholder
        # rows keep "at least two parties" true and are clearly marked.
        parties = [
            {"role": DisputeParty.PartyRole.APPLICANT, "name": str(PLACEHOLDER_NAME)},
            {"role": DisputeParty.PartyRole.RESPONDENT, "name": str(PLACEHOLDER_NAME)},
        ]
    return dispute_register(
        actor=actor,
        category=category or "other",
        area=incident.grid,
        origin=DisputeCase.Origin.GRID_INCIDENT,
        description=incident.description,
        parties=parties,
        organisation=organisation,
        referral_reference=incident.code,
        incident=incident,
    )


def _told_for_head(organisation_id: int) -> list[User]:
    """Who is told what an organisation's head is told: its heads who can act, or, while it has
    none (the head left, or was never appointed), every member who can act. Members accept a case
    without a head, and a case sent to a headless organisation waited unseen (docs/mediation.md
    "An organisation without a head"). With no member left who can act, the administrators, who
    appoint members (``_administrators``)."""
    members = list(acting_members({organisation_id}).select_related("user").order_by("user_id"))
    return [m.user for m in members if m.is_head] or [m.user for m in members] or _administrators()


def _administrators() -> list[User]:
    """The site's administrators (active superusers): told of a case at an organisation with nobody
    left to act for it, as only they can give it members (the admin's organisation page)."""
    return list(User.objects.filter(is_superuser=True, is_active=True).order_by("pk"))


def _notify_intake(case: DisputeCase, actor: User, key: str) -> None:
    """Tell the organisation's head(s) that a case waits for acceptance (referrals and transfers
    arrive from outside the organisation). ``notify`` is idempotent per (user, key): a transfer's
    key names its event, or a case transferred back to an organisation a second time told its head
    nothing (the first arrival's key was taken)."""
    if case.organisation_id is None:
        return
    for user in _told_for_head(case.organisation_id):
        if user.pk != actor.pk:
            notify(
                user=user,
                key=f"{key}:{case.pk}:{case.organisation_id}",
                message=gettext_lazy("Dispute case %(code)s waits for acceptance."),
                params={"code": case.code},
                link=reverse("mediation-case", args=[case.code]),
            )


@transaction.atomic
def dispute_transition(
    *, case: DisputeCase, actor: User, action: str, note: str = "", **fields: Any
) -> DisputeEvent:
    event = case.transition(action=action, actor=actor, note=note, **fields)
    if event.repeated:
        return event  # the step sent twice: done by the first send, its notices with it
    if action == "transfer":
        _notify_intake(case, actor, f"dispute-transfer:{event.pk}")
    elif action in ("accept", "reassign") and case.mediator_id and case.mediator_id != actor.pk:
        notify(
            user=case.mediator,
            key=f"dispute-assigned:{case.pk}:{event.pk}",
            message=gettext_lazy("Dispute case %(code)s is assigned to you (%(action)s)."),
            params={"code": case.code, "action": ACTION_LABELS[action]},
            link=reverse("mediation-case", args=[case.code]),
        )
    return event


def dispute_session_check(
    *,
    case: DisputeCase,
    held_at: dt.datetime | None,
    place: str,
    attendees: str,
    summary: str,
    **_other: Any,
) -> None:
    """Every check of a session's fields, all at once (ValidationError names each field), saving
    nothing: ``dispute_record_session`` runs it, and the case page on what its form could read, so a
    time refused here is reported with the form's own errors rather than on a second submit."""
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    if held_at is None:
        errors["held_at"] = [_("Give the date and time of the session.")]
    elif held_at > now + dt.timedelta(minutes=10):
        errors["held_at"] = [_("A session cannot be recorded before it took place.")]
    elif held_at < case.received_at.replace(second=0, microsecond=0):  # the page gives minutes only
        errors["held_at"] = [
            _("A session cannot take place before the case was received (%(d)s).")
            % {"d": timezone.localtime(case.received_at).strftime("%Y-%m-%d %H:%M")}
        ]
    for name, value, message in (
        ("place", place, _("Where was the session held?")),
        ("attendees", attendees, _("Who attended?")),
        ("summary", summary, _("Summarise the session.")),
    ):
        if not (value or "").strip():
            errors[name] = [message]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def dispute_record_session(
    *,
    case: DisputeCase,
    actor: User,
    held_at: dt.datetime | None,
    place: str,
    attendees: str,
    summary: str,
    next_step: str = "",
    submission: uuid.UUID | None = None,
) -> DisputeSession:
    """Record a session; the first one moves an accepted case into mediation. Validation first, then
    the transition (which checks state and role), then the row, all in one transaction. A session
    sent again with the ``submission`` key of one its recorder already saved returns that session."""
    done = submitted_before(
        DisputeSession.objects.filter(recorded_by=actor), actor=actor, submission=submission
    )
    if done is not None:
        if done.case_id != case.pk:
            raise ValidationError(
                {"submission": [_("This key was already sent with another case's session.")]}
            )
        return done
    now = timezone.now()
    dispute_session_check(case=case, held_at=held_at, place=place, attendees=attendees, summary=summary)
    case.transition(action="record_session", actor=actor, note=(next_step or "").strip()[:400])
    session = DisputeSession(
        case=case,
        held_at=held_at,
        place=place.strip()[:200],
        attendees=attendees.strip()[:400],
        summary=summary.strip(),
        next_step=(next_step or "").strip()[:400],
        recorded_by=actor,
        recorded_at=now,
        submission=submission,
    )
    session.full_clean(validate_constraints=False)  # the key's uniqueness was checked under the lock
    session.save()
    return session


def party_reveal(
    *, case: DisputeCase, party: DisputeParty, actor: User, reason: str, ip_address: str | None = None
) -> dict[str, str]:
    """Unmask one party's personal data for the assigned mediator or the organisation head, writing
    the access log first (no log, no data)."""
    if party.case_id != case.pk:
        raise PermissionDenied(_("This person is not a party to the case."))
    if not may_reveal(actor, case):
        raise PermissionDenied(
            _("Only the assigned mediator and the organisation head may see parties' personal data.")
        )
    if not party.has_personal_data:
        # Refused before the log is written: there is nobody's data to have seen.
        if party.erased:
            raise ValidationError({"party": [ERASED_REFUSAL]})
        raise ValidationError(
            {"party": [_("Nothing to show: this party's details are still to be completed.")]}
        )
    personal_data_reveal(
        actor=actor,
        obj=party,
        record=case.code,
        fields=list(DisputeParty.PERSONAL_FIELDS),
        reason=reason,
        ip_address=ip_address,
        limited=True,
    )
    return {
        "id": party.pk,
        "role": party.role,
        "name": party.name,
        "id_number": party.id_number,
        "phone": party.phone,
        "address": party.address,
    }


REMOVABLE_PARTY_FIELDS = ("id_number", "phone", "address")


def dispute_party_update(
    *,
    case: DisputeCase,
    party: DisputeParty,
    actor: User,
    clear: Iterable[str] = (),
    ip_address: str | None = None,
    **changes: str,
) -> DisputeParty:
    """Complete or correct a party's details while the case is open (e.g. the placeholders of a case
    converted from a grid incident). Only those who may see the data may change it; blank values keep
    what is stored, and ``clear`` names the optional fields to remove (an ID number or phone entered
    by mistake is personal data the case has no business keeping). The change is an event on the
    case's timeline (without the data itself).

    An ID number refused because another party of the case has it tells the editor whose it is, as
    surely as a reveal: the refusal is written to the access log like one, for that party, and the
    entry stays although nothing is saved (it is written after the transaction that checked)."""
    if party.case_id != case.pk:
        raise PermissionDenied(_("This person is not a party to the case."))
    given = {k: (v or "").strip() for k, v in changes.items() if k in ("role", *DisputeParty.PERSONAL_FIELDS)}
    given = {k: v for k, v in given.items() if v}
    clear = set(clear or ())
    # The checks read the case and its other parties with the case locked, until the change is
    # written: two edits at once (the mediator's and the head's) each passed them against the other
    # parties as they were and gave two parties one ID number, or made both respondents applicants
    # (a case with one side); an edit checked while the case was open was written after it was
    # concluded. The case's other steps lock it too, so they take turns.
    with transaction.atomic():
        case = DisputeCase.objects.select_for_update(of=("self",), no_key=True).get(pk=case.pk)
        party = DisputeParty.objects.get(pk=party.pk)
        errors, clash, cleaned = _checked_party_update(case, party, actor, given, clear)
        if not errors:
            return _save_party_update(case, party, actor, cleaned, given, clear)
    if clash is not None:
        # Written once the lock is let go, and kept although nothing was saved.
        personal_data_reveal(
            actor=actor,
            obj=case.parties.get(position=clash),
            record=case.code,
            fields=["id_number"],
            reason=gettext_lazy("party edit: the ID number typed is this party's"),
            ip_address=ip_address,
        )
    raise ValidationError(errors)


def _checked_party_update(
    case: DisputeCase, party: DisputeParty, actor: User, given: dict[str, str], clear: set[str]
) -> tuple[dict[str, list], int | None, DisputeParty]:
    """The checks of ``dispute_party_update`` on the locked case: (errors by field, the position of
    the party whose ID number was typed or None, the cleaned new values). Permission and state
    problems are raised."""
    if not may_reveal(actor, case):
        raise PermissionDenied(
            _("Only the assigned mediator and the organisation head may change parties' personal data.")
        )
    if not case.is_open:
        # A step from the wrong state, as the case's other steps refuse it (409), not a wrong field.
        raise TransitionNotAllowed(_("The case is concluded: its parties can no longer change."))
    if clear - set(REMOVABLE_PARTY_FIELDS):
        raise ValidationError({"clear": [_("Only an ID number, a phone or an address can be removed.")]})
    if both := sorted(clear & set(given)):
        raise ValidationError({f: [_("Enter a new value or remove the stored one, not both.")] for f in both})
    if not given and not clear:
        raise ValidationError({"name": [_("Enter what should change.")]})
    row = {"role": party.role, "name": party.name, **given}
    if "id_number" not in given:
        row["id_number"] = ""  # unchanged: not re-validated (it was validated when stored)
    if "phone" not in given:
        row["phone"] = ""
    cleaned, errors = _clean_parties([row, {"role": "other", "name": "-"}])
    errors = {k.replace("parties[0].", ""): v for k, v in errors.items() if k.startswith("parties[0]")}
    others = list(case.parties.exclude(pk=party.pk).values_list("role", "id_hash", "position"))
    if "role" in given and (side := _one_sided([row["role"], *(role for role, _h, _p in others)])):
        errors.setdefault("role", []).append(side)
    clash = None
    if "id_number" in given and "id_number" not in errors:
        matches = [p for _r, h, p in others if h and h == pii.keyed_hash(cleaned[0].id_number)]
        if matches:
            clash = matches[0]
            errors["id_number"] = [_same_person(clash)]
    return errors, clash, cleaned[0]


def _save_party_update(
    case: DisputeCase,
    party: DisputeParty,
    actor: User,
    new: DisputeParty,
    given: dict[str, str],
    clear: set[str],
) -> DisputeParty:
    """The checked change of ``dispute_party_update`` written, with its event on the timeline."""
    for field in given:
        setattr(party, field, getattr(new, field))
    for field in clear:
        setattr(party, field, "")
    if "id_number" in given:
        party.id_hash = new.id_hash
    elif "id_number" in clear:
        party.id_hash = ""
    id_changed = "id_number" in given or "id_number" in clear
    party.save(update_fields=sorted({*given, *clear, *(["id_hash"] if id_changed else [])}))
    DisputeEvent.objects.create(
        case=case,
        actor=actor,
        action="update_party",
        from_status=case.status,
        to_status=case.status,
        # Stored text is read by everyone: in the site's language, not the editor's.
        note=in_site_language(DisputeParty.PartyRole(party.role).label),
        organisation_id=case.organisation_id,
        data={"party": party.pk, "fields": sorted(given), **({"removed": sorted(clear)} if clear else {})},
    )
    return party


def _case_told(cases: list[DisputeCase]):
    """Who is told of a deadline of each of ``cases``: ``told(case)`` is its mediator while an active
    member of the case's organisation, else the organisation's heads (a mediator who has left may no
    longer act on it, and the head, who may, was never told), or, while it has no head, its members
    (one of them takes the case over: ``models.may_take_over``), or with nobody left to act, the
    administrators. Two queries for all the cases, whatever their number."""
    members, heads, everyone = set(), defaultdict(list), defaultdict(list)
    for m in acting_members({c.organisation_id for c in cases}).select_related("user").order_by("user_id"):
        members.add((m.organisation_id, m.user_id))
        everyone[m.organisation_id].append(m.user)
        if m.is_head:
            heads[m.organisation_id].append(m.user)
    admins: list[User] = []

    def told(case: DisputeCase) -> list[User]:
        if (case.organisation_id, case.mediator_id) in members:
            return [case.mediator]
        if not (heads[case.organisation_id] or everyone[case.organisation_id] or admins):
            admins.extend(_administrators())
        return heads[case.organisation_id] or everyone[case.organisation_id] or admins

    return told


def dispute_notify_confirmation_closing(now: dt.datetime | None = None) -> int:
    """Tell who may apply for each successful case whose 30-day window to apply for judicial
    confirmation ends within CONFIRMATION_WARN_DAYS with no application yet (``_case_told``).
    Daily (beat row created by migration 0003); ``notify`` is idempotent per (user, key), so each
    case's window is announced once however often this runs. Returns the number of notifications
    created."""
    today = timezone.localdate(now or timezone.now())
    created = 0
    cases = list(
        DisputeCase.objects.confirmation_closing(now)
        .select_related("mediator")
        .order_by("confirmation_due", "pk")
    )  # the few cases whose window closes this week (index dispute_confirmation_due)
    told = _case_told(cases)
    for case in cases:
        for user in told(case):
            created += notify(
                user=user,
                key=f"dispute-confirmation-closing:{case.pk}:{case.confirmation_due.isoformat()}",
                message=ngettext_lazy(
                    "Dispute case %(code)s: the window to apply for judicial confirmation ends on "
                    "%(date)s (%(days)d day left).",
                    "Dispute case %(code)s: the window to apply for judicial confirmation ends on "
                    "%(date)s (%(days)d days left).",
                    "days",
                ),
                params={
                    "code": case.code,
                    "date": case.confirmation_due.isoformat(),
                    "days": (case.confirmation_due - today).days,
                },
                link=reverse("mediation-case", args=[case.code]),
            )
    return created


def dispute_notify_limits(now: dt.datetime | None = None) -> int:
    """Tell who acts on each running case (accepted, in mediation) that its time limit ends within
    LIMIT_WARN_DAYS, and again once it has passed: the desk shows it in red, but only to whoever
    opens it, and a case whose mediator was away ran out unseen. The same people as the closing
    confirmation window (``_case_told``). Daily (beat row created by migration 0011); idempotent per
    (user, case, due date, ending/passed), so an extension, which moves the due date, is announced
    anew. Returns the number of notifications created."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    horizon = end_of_local_day(start_of_local_day(today + dt.timedelta(days=LIMIT_WARN_DAYS)))
    cases = list(
        DisputeCase.objects.filter(status__in=DisputeCase.RUNNING_STATUSES, due_at__lte=horizon)
        .select_related("mediator")
        .order_by("due_at", "pk")
    )  # the running cases due this week or overdue (index dispute_open_due)
    told = _case_told(cases)
    created = 0
    for case in cases:
        due = timezone.localdate(case.due_at)
        if case.due_at <= now:
            stage, message = (
                "passed",
                gettext_lazy("Dispute case %(code)s passed its time limit on %(date)s."),
            )
        else:
            stage = "ending"
            message = ngettext_lazy(
                "Dispute case %(code)s: its time limit ends on %(date)s (%(days)d day left).",
                "Dispute case %(code)s: its time limit ends on %(date)s (%(days)d days left).",
                "days",
            )
        for user in told(case):
            created += notify(
                user=user,
                key=f"dispute-limit-{stage}:{case.pk}:{due.isoformat()}",
                message=message,
                params={"code": case.code, "date": due.isoformat(), "days": (due - today).days},
                link=reverse("mediation-case", args=[case.code]),
            )
    return created


def dispute_refresh_deadlines(**_signal) -> int:
    """``governance.deadlines.calendar_changed``: the time limit of each case still running and the
    end of each judicial confirmation window not yet used, recomputed with the calendar as it is now
    (a limit or a window ending on a day that has become a holiday runs to the next working day). A
    case concluded keeps the limit it was judged by."""
    running = DisputeCase.objects.filter(
        status__in=DisputeCase.RUNNING_STATUSES, accepted_at__isnull=False, due_at__isnull=False
    ).only("status", "accepted_at", "extended", "due_at")
    waiting = DisputeCase.objects.filter(
        outcome__in=DisputeCase.CONFIRMABLE_OUTCOMES, confirmation_due__isnull=False, judicial_status=""
    ).only("agreement_effective_on", "confirmation_due")
    return save_recomputed(
        running, lambda case: {"due_at": case.running_due() or case.due_at}
    ) + save_recomputed(
        waiting.exclude(agreement_effective_on=None),
        lambda case: {"confirmation_due": confirmation_window_end(case.agreement_effective_on)},
    )


def dispute_deadlines_between(*, start: dt.datetime, end: dt.datetime, **_signal) -> list[tuple[str, int]]:
    """``governance.deadlines.deadlines_between``: the cases whose time limit runs out in the span
    (index dispute_open_due), and the agreements whose window to apply for judicial confirmation,
    not yet used, ends on one of its days (index dispute_confirmation_due)."""
    running = DisputeCase.objects.filter(
        status__in=DisputeCase.RUNNING_STATUSES, due_at__gte=start, due_at__lt=end
    )
    windows = DisputeCase.objects.filter(
        outcome__in=DisputeCase.CONFIRMABLE_OUTCOMES,
        judicial_status="",
        confirmation_due__gte=timezone.localtime(start).date(),
        confirmation_due__lt=timezone.localtime(end).date(),
    )
    return [
        (gettext_lazy("open dispute cases"), running.count()),
        (gettext_lazy("windows to apply for judicial confirmation"), windows.count()),
    ]
