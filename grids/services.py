"""Writes of the grids app: reporting an incident, moving it through its workflow, overdue notices.

Pages, the API and tasks call these; the state machine itself is ``Incident.transition``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance import outbox
from governance.access import area_in_scope
from governance.deadlines import save_recomputed
from governance.geo import distance_m, locator
from governance.models import Area, Membership, Notification, Role, User, next_number, record_id
from governance.services import notify, submitted_before
from governance.workflow import ActionInvalid
from grids.models import (
    Incident,
    IncidentCategory,
    IncidentEvent,
    IncidentPhoto,
    Level,
    grid_checkers,
    separate_duties,
)
from grids.photos import CleanPhoto, attach_display, attach_thumbnail, clean_photos

log = logging.getLogger(__name__)

# Who reports incidents (docs/incidents.md "report": a grid worker or handler in scope; admins may do
# everything). Analysts, mediators and petition officers only read incidents.
REPORTER_ROLES = {Role.GRID_WORKER, Role.HANDLER, Role.ADMIN}


def may_report(user: User) -> bool:
    """Does the user hold a role that reports incidents (somewhere)? Where is checked per report."""
    return bool(user.is_active and (user.is_superuser or user.has_role(*REPORTER_ROLES)))


# Who resolves an item on the spot (即办件): the grid worker (DOMAIN.md), and admins, who may do
# everything. Such an item is closed at once at grid level, without acceptance, on-site check or close.
ON_THE_SPOT_ROLES = {Role.GRID_WORKER, Role.ADMIN}
ON_THE_SPOT_REFUSED = gettext_lazy(
    "Only a grid worker of the grid resolves an item on the spot; report it for the centre to accept."
)


def may_resolve_on_the_spot(user: User, grid: Area | None = None) -> bool:
    """May the user report an item resolved on the spot (in ``grid``; anywhere: in some grid)? A
    centre's handler reports what the centre is to accept: the item would otherwise be closed with
    nobody supervising it, and counted as resolved in the grid."""
    if grid is None:
        return bool(user.is_active and (user.is_superuser or user.has_role(*ON_THE_SPOT_ROLES)))
    return area_in_scope(user, grid, ON_THE_SPOT_ROLES)


def resolve_category(category: IncidentCategory | str | int | None) -> IncidentCategory:
    if isinstance(category, IncidentCategory):
        found = category if category.is_active else None
    elif category in (None, ""):
        raise ValidationError({"category": [_("Choose a category.")]})
    else:
        lookup = Q(code=str(category))
        if record_id(category) is not None:
            lookup |= Q(pk=record_id(category))
        found = IncidentCategory.objects.filter(lookup, is_active=True).first()
    if found is None:
        raise ValidationError({"category": [_("Unknown category %(c)s.") % {"c": category}]})
    return found


def _place_and_time(
    *,
    actor: User,
    lat: float | None,
    lng: float | None,
    grid: Any,
    occurred_at: dt.datetime | None,
    now: dt.datetime,
    check_place: bool = True,
) -> tuple[Area | None, dt.datetime, dict[str, list[str]]]:
    """Where a report is (its grid) and when it happened, with the errors of either."""
    errors: dict[str, list[str]] = {}
    grid_obj = None
    if check_place:
        try:
            grid_obj = _resolve_grid(actor=actor, lat=lat, lng=lng, grid=grid)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    occurred_at = occurred_at or now
    if occurred_at > now + dt.timedelta(minutes=10):
        errors["occurred_at"] = [_("The time it happened cannot be in the future.")]
    elif occurred_at < now - dt.timedelta(days=3650):  # a typing error (0001-01-01), not an incident
        errors["occurred_at"] = [_("The time it happened is too far in the past.")]
    return grid_obj, occurred_at, errors


PLACE_FIELDS = {"lat", "lng", "grid"}


def report_place_and_time_errors(
    *, actor: User, values: dict, refused: Iterable[str]
) -> dict[str, list[str]]:
    """The checks ``incident_report`` makes of where and when, on what a refused report could read
    (``values``), saving nothing: the page and the API name these with the input's own errors, not
    after those were fixed and the report sent again. When the input refused a place field, that error
    stands and the place is not checked (the service would see the field as missing).

    An item resolved on the spot (``values["kind"]``) is checked against the grid so found, as the
    service checks it: a worker of one grid who handles the community around it may resolve one there,
    not in the next grid. Without a grid, it is refused only to whoever may resolve one nowhere."""
    grid_obj, __, errors = _place_and_time(
        actor=actor,
        lat=values.get("lat"),
        lng=values.get("lng"),
        grid=values.get("grid") or None,
        occurred_at=values.get("occurred_at"),
        now=timezone.now(),
        check_place=not (PLACE_FIELDS & set(refused)),
    )
    spot = "kind" not in refused and values.get("kind") == Incident.Kind.ON_THE_SPOT
    if spot and not may_resolve_on_the_spot(actor, grid_obj):
        errors["kind"] = [ON_THE_SPOT_REFUSED]
    return errors


# How far outside every grid a point may lie and still be taken with the reporter's grid named:
# a phone's fix in a courtyard or by a tall building is often a few hundred metres off.
NEAR_GRID_METRES = 500


def _outline_of(grid: Area) -> Area | None:
    """The area whose boundary a point reported in ``grid`` is checked against: the grid's own, or,
    for a grid drawn without one, that of its nearest ancestor drawn with one (its community, else
    its street...). A grid without a boundary took a point anywhere on earth; None when no area
    above it has one either."""
    if grid.boundary:
        return grid
    return grid.ancestors().filter(boundary__isnull=False).order_by("-depth").first()


def _resolve_grid(*, actor: User, lat: float | None, lng: float | None, grid: Area | str | None) -> Area:
    """The grid of a report: found from the point when there is one, else the given grid code."""
    if (lat is None) != (lng is None):
        missing = "lng" if lng is None else "lat"
        raise ValidationError({missing: [_("Give both latitude and longitude.")]})
    located: Area | None = None
    outside_every_grid = False
    if lat is not None:
        if not (-90 <= lat <= 90) or not (-180 <= lng <= 180):
            raise ValidationError({"lat": [_("Not a valid position.")], "lng": [_("Not a valid position.")]})
        codes = locator.locate_all(lat, lng)
        # A point on a border shared by grids lies in each of them: the one named, else the first
        # the reporter may report in. (The neighbour's code coming first refused a worker standing
        # on the edge of their own grid, and a grid named with the point.) A point in grids outside
        # the reporter's area is refused as one in none: two messages told where grids lie that
        # the reporter may not see.
        # Grids out of service today (merged away, or drawn for later) are skipped as if absent: the
        # boundary of the grid that replaced one covers the point too.
        in_service = (
            list(
                Area.objects.filter(Area.in_service_on(timezone.localdate()), code__in=codes).order_by("code")
            )
            if codes
            else []
        )
        codes = [area.code for area in in_service]
        candidates = [area for area in in_service if area_in_scope(actor, area, REPORTER_ROLES)]
        # A point in no grid at all with one of the reporter's grids named is taken as given when it
        # lies near that grid (NEAR_GRID_METRES, below): a phone's fix drifts over the edge of the
        # map's grids, and a drawn boundary is not the street it follows; the worker knows where
        # they stand (the report page says so: "move it into your grid, or choose the grid below").
        # The point is kept as recorded. Without a grid named it is refused; so is a point in
        # someone else's grid, named or not (which grid is never said), and one in another grid of
        # the reporter's own area (below).
        outside_every_grid = not codes
        if not candidates and (codes or grid in (None, "")):
            message = _(
                "The point %(lat).6f, %(lng).6f lies outside every grid of your area; you cannot report there."
            ) % {"lat": lat, "lng": lng}
            raise ValidationError({"lat": [message], "lng": [message]})
        if candidates:
            named = grid.code if isinstance(grid, Area) else str(grid or "")
            located = next((area for area in candidates if area.code == named), candidates[0])
    given: Area | None = None
    if grid not in (None, ""):
        given = grid if isinstance(grid, Area) else Area.objects.filter(code=str(grid), level="grid").first()
        # A grid outside the reporter's area answers as a missing one: neither its existence nor, below,
        # its name is told to someone who cannot see it (DESIGN.md section 4). So does one out of
        # service today (merged away, or drawn for later), as the point's lookup skips it: named, it
        # was taken, and a point inside it was measured against its own boundary (0 m) and taken too.
        if (
            given is None
            or given.level != "grid"
            or not given.serves_on(timezone.localdate())
            or not area_in_scope(actor, given, REPORTER_ROLES)
        ):
            raise ValidationError(
                {"grid": [_("Unknown grid %(g)s, or it is outside your area.") % {"g": grid}]}
            )
    outline = _outline_of(given) if given is not None and lat is not None and outside_every_grid else None
    if outline is not None and (away := distance_m(outline.boundary, lat, lng)) > NEAR_GRID_METRES:
        if outline.pk == given.pk:
            message = _(
                "The point lies about %(km).1f km from %(grid)s, outside every grid: move it into "
                "your grid, or clear the location and name the grid alone."
            ) % {"km": away / 1000, "grid": given.name}
        else:  # the grid has no boundary: its community's (or street's...) holds it
            message = _(
                "The point lies about %(km).1f km from %(area)s, which grid %(grid)s belongs to: move it "
                "into your grid, or clear the location and name the grid alone."
            ) % {"km": away / 1000, "area": outline.name, "grid": given.name}
        raise ValidationError({"lat": [message], "lng": [message]})
    if located and given and located.pk != given.pk:
        raise ValidationError(
            {"grid": [_("The point lies in grid %(g)s, not in this one.") % {"g": located.name}]}
        )
    chosen = located or given
    if chosen is None:
        raise ValidationError({"lat": [_("Give the location (lat and lng) or the grid.")]})
    return chosen


def incident_photos_save(
    incident: Incident,
    photos: Iterable[CleanPhoto],
    *,
    actor: User,
    stage: str,
    event: IncidentEvent | None,
    at: dt.datetime | None = None,
) -> list[IncidentPhoto]:
    """Store cleaned photos (``grids.photos``) with their thumbnails and display copies; ``at`` dates
    them (now by default: the demo's photos of past items take their step's time)."""
    saved = []
    for p in photos:
        photo = IncidentPhoto(
            incident=incident,
            event=event,
            stage=stage,
            content_type=p.content_type,
            width=p.width,
            height=p.height,
            size=p.size,
            uploaded_by=actor,
            uploaded_at=at or timezone.now(),
        )
        # The storage writes the file now; if the transaction rolls back the orphan file is harmless
        # (never referenced, never served) and far rarer than the cost of deferring the write.
        photo.file.save("photo", ContentFile(p.content), save=False)
        if p.thumbnail is not None:
            attach_thumbnail(photo, p.thumbnail)
        if p.display is not None:
            attach_display(photo, p.display)
        photo.save()
        saved.append(photo)
    return saved


def report_photos_checked(
    *, kind: str, resolution: str, photos: Iterable
) -> tuple[list[CleanPhoto], dict[str, list[str]]]:
    """The photos of a report, cleaned, and the errors of the photos and of an on-the-spot item's
    needs (a resolution and a photo). Said with every other error of the report, so that a worker on a
    phone does not submit twice to learn them: the report page calls it too when its form is refused
    before ``incident_report`` is reached."""
    errors: dict[str, list[str]] = {}
    try:
        cleaned = clean_photos(photos)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        cleaned = []
    if kind == Incident.Kind.ON_THE_SPOT:
        if not (resolution or "").strip():
            errors["resolution"] = [_("Say how you resolved it on the spot.")]
        if not cleaned and "photos" not in errors:
            errors["photos"] = [_("Add a photo of the result for an item resolved on the spot.")]
    return cleaned, errors


@transaction.atomic
def incident_report(
    *,
    actor: User,
    category: IncidentCategory | str | int | None,
    description: str,
    occurred_at: dt.datetime | None = None,
    lat: float | None = None,
    lng: float | None = None,
    grid: Area | str | None = None,
    address: str = "",
    kind: str = Incident.Kind.PROMISED,
    resolution: str = "",
    photos: Iterable = (),
    submission: uuid.UUID | None = None,
) -> Incident:
    """Record a new incident and start its first step (or close it at once if resolved on the spot).

    Everything is validated before the number is taken, so a refused report leaves no gap. A role that
    may not report gets PermissionDenied (403), not "outside your area" (a validation error, 400).
    A report sent again with the ``submission`` key of one already saved by the same reporter returns
    that incident and saves nothing (a retry after a lost answer, a double submit)."""
    if not may_report(actor):
        raise PermissionDenied(_("Only grid workers and handlers report incidents."))
    done = submitted_before(Incident.objects.filter(reporter=actor), actor=actor, submission=submission)
    if done is not None:
        return done
    errors: dict[str, list[str]] = {}
    description = (description or "").strip()
    if not description:
        errors["description"] = [_("Describe what you found.")]
    try:
        category_obj = resolve_category(category)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    now = timezone.now()
    grid_obj, occurred_at, place_errors = _place_and_time(
        actor=actor, lat=lat, lng=lng, grid=grid, occurred_at=occurred_at, now=now
    )
    errors.update(place_errors)
    if kind not in Incident.Kind.values:
        errors["kind"] = [_("Unknown kind %(k)s.") % {"k": kind}]
    elif kind == Incident.Kind.ON_THE_SPOT and not may_resolve_on_the_spot(actor, grid_obj):
        errors["kind"] = [ON_THE_SPOT_REFUSED]
    cleaned, photo_errors = report_photos_checked(kind=kind, resolution=resolution, photos=photos)
    errors.update(photo_errors)
    on_the_spot = kind == Incident.Kind.ON_THE_SPOT
    if errors:
        raise ValidationError(errors)

    level = Level.GRID if on_the_spot else category_obj.default_level
    incident = Incident(
        code=next_number("INC", now),
        category=category_obj,
        grid=grid_obj,
        lat=lat,
        lng=lng,
        address=(address or "").strip()[:200],
        description=description,
        occurred_at=occurred_at,
        reported_at=now,
        reporter=actor,
        submission=submission,
        kind=kind,
        level=level,
        level_area=grid_obj
        if level == Level.GRID
        else Area.objects.get(code=Incident.area_code_at(grid_obj, level)),
        status=Incident.Status.REPORTED,
    )
    if on_the_spot:
        incident.status = Incident.Status.CLOSED
        incident.resolution = resolution.strip()
        incident.resolved_level = Level.GRID
        incident.resolved_at = incident.closed_at = now
    else:
        incident.start_step(Incident.Status.REPORTED, now)
    incident.full_clean(
        validate_unique=False, validate_constraints=False
    )  # the number is unique by construction
    incident.save()
    event = IncidentEvent.objects.create(
        incident=incident,
        actor=actor,
        at=now,
        action="report",
        to_status=Incident.Status.REPORTED,
        level=level,
    )
    if on_the_spot:
        event = IncidentEvent.objects.create(
            incident=incident,
            actor=actor,
            at=now,
            action="close",
            from_status=Incident.Status.REPORTED,
            to_status=Incident.Status.CLOSED,
            note=incident.resolution,
            level=level,
        )
    incident_photos_save(incident, cleaned, actor=actor, stage=IncidentPhoto.Stage.REPORT, event=event)
    if not on_the_spot:
        # Telling the handlers must survive a broker outage: an outbox row in this transaction.
        outbox.enqueue("grids.notify_new_incident", incident_id=incident.pk)
    return incident


def incident_notify_new(incident_id: int) -> int:
    """Tell the handlers of the responsible centre that a new incident waits for acceptance.
    Idempotent per (user, incident). Returns how many were newly notified."""
    incident = Incident.objects.select_related("grid").filter(pk=incident_id).first()
    if incident is None or incident.status != Incident.Status.REPORTED:
        return 0
    message = gettext_lazy("New incident %(code)s in %(grid)s waits for acceptance.")
    params = {"code": incident.code, "grid": incident.grid.name}
    return _notify_centre(incident, key=f"incident-new:{incident.pk}", message=message, params=params)


def incident_notify_escalated(incident_id: int, level: str) -> int:
    """Tell the handlers of the centre at ``level`` that an incident was escalated to them and waits
    for acceptance. Idempotent per (user, incident, level): a second escalation (to the next level)
    notifies the next centre. Nothing if the item has moved on since (accepted, escalated again)."""
    incident = Incident.objects.select_related("grid").filter(pk=incident_id).first()
    if incident is None or incident.status != Incident.Status.REPORTED or incident.level != level:
        return 0
    message = gettext_lazy(
        "Incident %(code)s in %(grid)s was escalated to %(level)s level and waits for acceptance."
    )
    params = {"code": incident.code, "grid": incident.grid.name, "level": Level(incident.level).label}
    key = f"incident-escalated:{incident.pk}:{level}"
    return _notify_centre(incident, key=key, message=message, params=params)


def incident_notify_dispatched(incident_id: int, event_id: int) -> int:
    """Tell the handlers of the departments a dispatch names: the lead that handles and feeds back,
    and each supporting department of a coordination item, asked to record its part. Idempotent per
    (user, dispatch event): a re-dispatch is a new event and notifies anew. Nothing once the item has
    moved on from that dispatch (dispatched again, escalated, fed back)."""
    incident = Incident.objects.select_related("grid").filter(pk=incident_id).first()
    event = (
        IncidentEvent.objects.filter(pk=event_id, incident_id=incident_id, action="dispatch")
        .select_related("department")
        .prefetch_related("supporting_departments")
        .first()
    )
    if (
        incident is None
        or event is None
        or incident.status not in (Incident.Status.DISPATCHED, Incident.Status.HANDLING)
        or incident.events.filter(action__in=("dispatch", "escalate"), pk__gt=event.pk).exists()
    ):
        return 0
    params = {"code": incident.code, "grid": incident.grid.name, "lead": event.department.name}
    # A re-dispatch tells only the departments it adds: one that changes the supporters leaves the
    # lead (and the supporters kept) with what they were told at the dispatch before.
    earlier = (
        incident.events.filter(pk__lt=event.pk, action__in=("dispatch", "escalate", "return"))
        .order_by("-pk")
        .prefetch_related("supporting_departments")
        .first()
    )
    led_before, supported_before = None, set()
    # Only if the earlier dispatch's notice went out: with the broker down it finds this later
    # dispatch and sends nothing, and the lead would never hear of the item.
    if (
        earlier is not None
        and earlier.action == "dispatch"
        and Notification.objects.filter(key=f"incident-dispatched:{incident.pk}:{earlier.pk}").exists()
    ):
        led_before, supported_before = (
            earlier.department_id,
            {d.pk for d in earlier.supporting_departments.all()},
        )
    messages = {}
    if event.department_id != led_before:
        messages[event.department_id] = gettext_lazy(
            "Incident %(code)s in %(grid)s was dispatched to your department."
        )
    for department in event.supporting_departments.all():
        if department.pk in supported_before:
            continue
        messages[department.pk] = gettext_lazy(
            "Incident %(code)s in %(grid)s needs your department's help: %(lead)s leads, record your part on it."
        )
    link = reverse("grids-incident", args=[incident.code])
    key = f"incident-dispatched:{incident.pk}:{event.pk}"
    sent = 0
    for membership in Membership.objects.filter(
        department_id__in=messages, role=Role.HANDLER, user__is_active=True
    ).select_related("user"):
        message = messages[membership.department_id]
        sent += notify(user=membership.user, key=key, message=message, params=params, link=link)
    return sent


def incident_notify_step(incident_id: int, event_id: int) -> int:
    """Tell whoever owns the step a ``feedback`` or a ``verify`` hands the item to: the grid workers of
    its grid, who check it on site (feedback), the people of the department it goes back to
    (verification failed), or the centre handlers who close it (verification passed); the centre
    handlers an item is returned to by its department, who dispatch it again; and the reporter of a
    rejected item. Idempotent per (user, event); nothing once the item has moved on from
    that event (a later step other than a supporter's ``assist``)."""
    incident = Incident.objects.select_related("grid").filter(pk=incident_id).first()
    event = IncidentEvent.objects.filter(pk=event_id, incident_id=incident_id).first()
    if (
        incident is None
        or event is None
        or incident.status != event.to_status
        or incident.events.filter(pk__gt=event.pk).exclude(action="assist").exists()
    ):
        return 0
    params = {"code": incident.code, "grid": incident.grid.name}
    if event.action == "feedback" and incident.status == Incident.Status.FED_BACK:
        checkers = grid_checkers(incident)  # not whoever fed it back (a centre's handler and worker)
        if not checkers:
            # Nobody works in the grid (or only whoever fed it back): the community's centre checks
            # it in its place (``checks_for_the_grid``), as the workers would have been told.
            return _notify_centre(
                incident,
                key=f"incident-step:{incident.pk}:{event.pk}",
                message=gettext_lazy(
                    "Incident %(code)s in %(grid)s was fed back and its grid has no grid worker to "
                    "check it: check the result on site."
                ),
                params=params,
                barred=_command_of(incident),
                centre_id=incident.grid.parent_id,
            )
        message = gettext_lazy("Incident %(code)s in %(grid)s was fed back: check the result on site.")
        who = Q(user_id__in=checkers)
    elif event.action == "verify" and incident.status == Incident.Status.HANDLING and incident.department_id:
        message = gettext_lazy(
            "Incident %(code)s in %(grid)s failed the on-site check and is back with your department."
        )
        who = Q(role=Role.HANDLER, department_id=incident.department_id)
    elif event.action == "verify" and incident.status == Incident.Status.VERIFIED:
        # The sign-off is owed by a centre handler who took no command step on this round (separate
        # duties): told here, since a centre of one person who dispatched it waits on the level above.
        return _notify_closers(incident, event, params=params)
    elif event.action == "return" and incident.status == Incident.Status.ACCEPTED:
        # Back with the centre that dispatches it: the same handlers a new item goes to.
        message = gettext_lazy(
            "Incident %(code)s in %(grid)s was returned by %(department)s as not its own: dispatch it again."
        )
        params["department"] = event.department.name if event.department_id else ""
        return _notify_centre(
            incident, key=f"incident-step:{incident.pk}:{event.pk}", message=message, params=params
        )
    elif event.action == "reject" and incident.status == Incident.Status.REJECTED:
        # The end of the item: its reporter hears of it and of the reason (on the incident's page).
        message = gettext_lazy("Incident %(code)s in %(grid)s was rejected: the reason is on its page.")
        who = Q(user_id=incident.reporter_id)
    else:
        return 0
    link = reverse("grids-incident", args=[incident.code])
    key = f"incident-step:{incident.pk}:{event.pk}"
    users = list(User.objects.filter(pk__in=Membership.objects.filter(who).values("user_id"), is_active=True))
    if not users and event.action == "verify":
        # A failed check back with a department that has nobody left (the centre handled it for
        # them): the centre, which can take the step, hears of it instead of nobody.
        message = gettext_lazy(
            "Incident %(code)s in %(grid)s failed the on-site check and is back in handling; its "
            "department has nobody to take it."
        )
        return _notify_centre(incident, key=key, message=message, params=params)
    return sum(notify(user=u, key=key, message=message, params=params, link=link) for u in users)


def incident_notify_checks_left(*, grid_ids: Iterable[int], **_signal) -> int:
    """``governance.models.grid_workers_left``: tell the community's centre of the fed-back items of ``grid_ids`` that no grid worker may
    check any more: their worker was told at the feedback, then left or moved to another grid, and the
    centre, which now checks them in the grid's place (``checks_for_the_grid``), heard nothing until
    they were overdue. Once per item; nothing for a grid that keeps a worker who may check it."""
    sent = 0
    for incident in Incident.objects.filter(
        grid_id__in=set(grid_ids), status=Incident.Status.FED_BACK
    ).select_related("grid"):
        if grid_checkers(incident):
            continue
        sent += _notify_centre(
            incident,
            key=f"incident-check-left:{incident.pk}",
            message=gettext_lazy(
                "Incident %(code)s in %(grid)s was fed back and its grid has no grid worker to "
                "check it: check the result on site."
            ),
            params={"code": incident.code, "grid": incident.grid.name},
            barred=_command_of(incident),
            centre_id=incident.grid.parent_id,
        )
    return sent


def _centre_area_id(level: str, level_area_id: int, grid_parent_id: int | None) -> int | None:
    """The area whose centre handlers hear of an item at ``level``: the responsible area, or for a
    grid-level item (no centre sits at a grid) its community's centre, which accepts it."""
    return grid_parent_id if level == Level.GRID else level_area_id


def _centre_handlers(area_id: int | None) -> QuerySet[User]:
    """The active handlers of the centre of an area (not its departments' people)."""
    return User.objects.filter(
        memberships__role=Role.HANDLER,
        memberships__area_id=area_id,
        memberships__department__isnull=True,
        is_active=True,
    ).distinct()


def _notify_closers(incident: Incident, event: IncidentEvent, *, params: dict) -> int:
    """Tell the centre that signs off an item that passed its on-site check: the handlers of the
    responsible centre who may close it, or, when separate duties bar every one of them (a centre of
    one person who dispatched it), those of the centre above, who close it instead."""
    message = gettext_lazy("Incident %(code)s in %(grid)s passed the on-site check: close it.")
    key = f"incident-step:{incident.pk}:{event.pk}"
    return _notify_centre(incident, key=key, message=message, params=params, barred=_command_of(incident))


def _command_of(incident: Incident) -> set:
    """Who took this round's command steps (dispatched it, set its supporters, fed it back) and so
    does not sign it off, nor check it on site for an unstaffed grid (separate duties)."""
    if not separate_duties():
        return set()
    return {incident.dispatched_by_id, incident.fed_back_by_id, incident.supporters_by_id}


def _notify_centre(
    incident: Incident,
    *,
    key: str,
    message: Any,
    params: dict,
    barred: set = frozenset(),
    centre_id: int | None = None,
) -> int:
    """Notify the centre handlers (not departments) of the incident's responsible area (or of
    ``centre_id``), once per key, but those ``barred`` (separate duties); a centre with nobody left
    passes it to the centre above, as the overdue notice does (an item escalated to, or reported at,
    an empty centre was told to nobody; a sign-off barred to a centre of one person is the level
    above's)."""
    if centre_id is None:
        centre_id = _centre_area_id(incident.level, incident.level_area_id, incident.grid.parent_id)
    handlers = [u for u in _centre_handlers(centre_id) if u.pk not in barred]
    if not handlers:
        parent_id = Area.objects.filter(pk=centre_id).values_list("parent_id", flat=True).first()
        handlers = [u for u in _centre_handlers(parent_id) if u.pk not in barred] if parent_id else []
    if not handlers:
        # As the overdue notice: told to nobody is said in the log, for whoever staffs the centres.
        log.warning(
            "Incident %s: notice %s has nobody to tell: no active handler at or above its centre.",
            incident.code,
            key,
        )
        return 0
    link = reverse("grids-incident", args=[incident.code])
    return sum(notify(user=u, key=key, message=message, params=params, link=link) for u in handlers)


# The steps that take photos besides the report: the department's result, and the grid worker's
# check of it on site (DOMAIN.md: verify on site), which shows what is still wrong when it fails.
PHOTO_STAGES = {"feedback": IncidentPhoto.Stage.FEEDBACK, "verify": IncidentPhoto.Stage.VERIFY}


@transaction.atomic
def incident_transition(
    *, incident: Incident, actor: User, action: str, note: str = "", photos: Iterable = (), **fields: Any
) -> IncidentEvent:
    """Perform a workflow action; feedback and the on-site check (verify) may carry up to 6 photos of
    the result. ``state`` in
    ``fields``, the item's status/level the step was drawn in, answers a step sent twice with its
    first event (``Incident.transition``)."""
    photos = list(photos or [])
    cleaned: list[CleanPhoto] = []
    if photos:
        if action not in PHOTO_STAGES:
            raise ActionInvalid(
                "photos", _("Photos can be added when reporting, feeding back or in the on-site check.")
            )
        cleaned = clean_photos(photos)
    event = incident.transition(action=action, actor=actor, note=note, **fields)
    if event.repeated:
        return event  # the step sent twice: done by the first send, its photos and notices with it
    incident_photos_save(incident, cleaned, actor=actor, stage=PHOTO_STAGES.get(action, ""), event=event)
    if action == "escalate":
        # The next level's centre must hear of it like of a new report: an outbox row in this
        # transaction, so the notice survives a broker outage.
        outbox.enqueue("grids.notify_escalated_incident", incident_id=incident.pk, level=incident.level)
    elif action == "dispatch":
        # The departments learn of their work the same way: the lead and every supporting department.
        outbox.enqueue("grids.notify_dispatched_incident", incident_id=incident.pk, event_id=event.pk)
    elif action in ("feedback", "reject", "verify", "return"):
        # The grid workers who check the result on site, the department it goes back to (a failed
        # check), the centre that closes it (a passed one), or the reporter of a rejected item.
        outbox.enqueue("grids.notify_incident_step", incident_id=incident.pk, event_id=event.pk)
    return event


def incident_notify_overdue(now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Notify the responsible handlers once when an incident's current step becomes overdue.

    Safe to run twice or concurrently: each (incident, due time) is claimed by a conditional UPDATE
    before anyone is notified, and ``notify`` is itself idempotent per (user, key).
    Returns the number of incidents newly flagged."""
    now = now or timezone.now()
    rows = list(
        Incident.objects.overdue(now)
        .filter(Q(overdue_notified_for__isnull=True) | ~Q(overdue_notified_for=F("due_at")))
        .values(
            "pk", "code", "due_at", "level", "level_area_id", "department_id", "grid_id", "grid__parent_id",
            "status", "dispatched_by_id", "fed_back_by_id", "supporters_by_id",
        )[:limit]
    )  # fmt: skip
    if not rows:
        return 0
    for r in rows:
        r["centre_id"] = _centre_area_id(r["level"], r["level_area_id"], r["grid__parent_id"])
    # An item waiting to be closed is owed by a centre handler who took no command step on it (separate
    # duties): the barred ones are not told, and when that leaves nobody (a centre of one person) the
    # centre above is, as when the item passed its check (``_notify_closers``).
    # A centre with nobody to tell at all (no active handler, and no department or grid worker owing
    # the step) passes the notice to the centre above the same way: an overdue item nobody hears of
    # would stay overdue unseen.
    duties = separate_duties()
    # An on-site check in a grid with nobody to do it is the community's (``checks_for_the_grid``).
    communities = {r["grid__parent_id"] for r in rows if r["status"] == Incident.Status.FED_BACK}
    centres = {r["centre_id"] for r in rows} | communities
    above = dict(Area.objects.filter(pk__in=centres).values_list("pk", "parent_id"))
    # Recipients in one query: centre handlers at the responsible area, the department's people for
    # items it is working on, and the grid workers of the grid for items waiting for their on-site
    # check (the step's owner, ``STEP_OWNERS``: told like the department is while it handles).
    area_ids = centres | {a for a in above.values() if a}
    dept_ids = {r["department_id"] for r in rows if r["department_id"]}
    grid_ids = {r["grid_id"] for r in rows if r["status"] == Incident.Status.FED_BACK}
    by_area: dict[int, list[int]] = defaultdict(list)
    by_dept: dict[int, list[int]] = defaultdict(list)
    by_grid: dict[int, list[int]] = defaultdict(list)
    for user_id, role, area_id, dept_id in Membership.objects.filter(
        Q(role=Role.HANDLER, area_id__in=area_ids, department__isnull=True)
        | Q(role=Role.HANDLER, department_id__in=dept_ids)
        | Q(role=Role.GRID_WORKER, area_id__in=grid_ids),
        user__is_active=True,
    ).values_list("user_id", "role", "area_id", "department_id"):
        if role == Role.GRID_WORKER:
            by_grid[area_id].append(user_id)
        elif dept_id:
            by_dept[dept_id].append(user_id)
        else:
            by_area[area_id].append(user_id)
    everyone = {u for group in (by_area, by_dept, by_grid) for ids in group.values() for u in ids}
    users = {u.pk: u for u in User.objects.filter(pk__in=everyone)}
    flagged = 0
    for r in rows:
        with transaction.atomic():
            claimed = (
                Incident.objects.filter(pk=r["pk"], due_at=r["due_at"])
                .filter(Q(overdue_notified_for__isnull=True) | ~Q(overdue_notified_for=F("due_at")))
                .update(overdue_notified_for=F("due_at"))
            )
            if not claimed:
                continue
            flagged += 1
            recipients = set(by_area.get(r["centre_id"], []))
            command = {r["dispatched_by_id"], r["fed_back_by_id"], r["supporters_by_id"]} if duties else set()
            barred = set()
            if r["status"] == Incident.Status.VERIFIED:
                barred = command
                recipients -= barred
            if r["department_id"] and r["status"] in ("dispatched", "handling"):
                recipients |= set(by_dept.get(r["department_id"], []))
            if r["status"] == Incident.Status.FED_BACK:
                recipients |= _overdue_checkers(r, by_grid, by_area, above, command, duties)
            if not recipients and above.get(r["centre_id"]):
                recipients = set(by_area.get(above[r["centre_id"]], [])) - barred
            if not recipients:
                log.warning(
                    "Incident %s is overdue and has nobody to tell: no active handler above it.", r["code"]
                )
            status_label = Incident.Status(r["status"]).label
            for user_id in sorted(recipients):
                notify(
                    user=users[user_id],
                    key=f"incident-overdue:{r['pk']}:{r['due_at'].isoformat()}",
                    message=gettext_lazy("Incident %(code)s is overdue (%(status)s)."),
                    params={"code": r["code"], "status": status_label},
                    link=reverse("grids-incident", args=[r["code"]]),
                )
    return flagged


def _overdue_checkers(
    r: dict, by_grid: dict, by_area: dict, above: dict, command: set, duties: bool
) -> set[int]:
    """Who is told that a fed-back item's on-site check is overdue, besides its centre: the grid
    workers who may check it, or, in a grid with none, the community's handlers who check it in
    their place (``checks_for_the_grid``) but whoever took this round's command steps; when that
    leaves nobody at the community, the street's (as the feedback notice does)."""
    checkers = set(by_grid.get(r["grid_id"], [])) - ({r["fed_back_by_id"]} if duties else set())
    if checkers:
        return checkers
    community = r["grid__parent_id"]
    stand_ins = set(by_area.get(community, [])) - command
    if not stand_ins and above.get(community):
        stand_ins = set(by_area.get(above[community], [])) - command
    return stand_ins


def incident_refresh_deadlines(**_signal) -> int:
    """``governance.deadlines.calendar_changed``: the deadline of each step counted in working hours
    and still running (acceptance, dispatch, verification), recomputed from the moment it started (the
    last event that set a deadline: ``handle`` and ``assist`` keep the running one) with the calendar
    as it is now. Handling limits are calendar hours and do not move."""
    started = (
        IncidentEvent.objects.filter(incident=OuterRef("pk"))
        .exclude(action__in=["handle", "assist"])
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    running = (
        Incident.objects.filter(status__in=Incident.WORKING_HOUR_STATUSES, due_at__isnull=False)
        .select_related("category")
        .only("status", "due_at", "step_hours", "category")
        .annotate(step_started=Subquery(started))
        .exclude(step_started=None)
    )
    return save_recomputed(
        running,
        lambda incident: {
            "due_at": incident.step_due(incident.status, incident.step_started, incident.step_hours)
        },
    )


def incident_deadlines_between(*, start: dt.datetime, end: dt.datetime, **_signal) -> list[tuple[str, int]]:
    """``governance.deadlines.deadlines_between``: the incidents whose step counted in working hours
    is due in the span (index incident_open_due); handling limits are clock hours."""
    running = Incident.objects.filter(
        status__in=Incident.WORKING_HOUR_STATUSES, due_at__gte=start, due_at__lt=end
    )
    return [(gettext_lazy("open incidents"), running.count())]


def incident_department_closing(*, department: Any, **_signal) -> str | None:
    """``governance.models.department_closing``: why ``department`` may not be deactivated yet, when
    incidents dispatched to it are still with it (dispatched, or being handled: only the department
    feeds back an item it is handling), else None. A supporting department's part of a coordination
    item is recorded when it has one; the lead department feeds back for all."""
    waiting = Incident.objects.filter(
        department=department, status__in=(Incident.Status.DISPATCHED, Incident.Status.HANDLING)
    ).count()
    if not waiting:
        return None
    return ngettext(
        "%(n)d incident dispatched to this department is still with it: its people feed it back (or "
        "return it to the centre before starting) first, or the centre dispatches it elsewhere before "
        "the department starts.",
        "%(n)d incidents dispatched to this department are still with it: its people feed them back (or "
        "return them to the centre before starting) first, or the centre dispatches them elsewhere before "
        "the department starts.",
        waiting,
    ) % {"n": waiting}
