"""Pages of the petitions app: the registry (deadline countdowns, filters), the reception-desk
intake form with an inline repeat warning (HTMX), the petition page (timeline, routing, reply,
extension, evaluation, review chain, masked petitioners with a logged reveal) and a department's
inbox of routed items."""

from __future__ import annotations

import contextlib
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

from governance import pii
from governance.access import get_visible_or_404
from governance.forms import errors_text
from governance.models import Area
from governance.periods import calendar_lacks_year, pinned_calendar, uncalendared_years
from governance.rest import may_take_step
from governance.services import RevealLimitReached, client_ip
from governance.templatetags.filters import summary_values
from governance.views import (
    area_filter_choices,
    area_labels,
    filtered_rows,
    labels_in_scope,
    redirect_after_step,
    run_step,
)
from petitions import selectors, services
from petitions.filters import PetitionFilter
from petitions.forms import INTAKE_ROWS, PERSON_FIELDS, ActionForm, IntakeForm, RevealForm, receipt_day
from petitions.models import (
    ACTION_LABELS,
    MAX_GROUP_REPRESENTATIVES,
    OFFICER_ROLES,
    WORKFLOW,
    Category,
    Petition,
    allowed_actions,
    may_perform,
    may_reveal,
    repeat_link_hidden,
    sees_masked_only,
    user_unit_ids,
)


def _is_officer(user) -> bool:
    return user.is_superuser or user.has_role(*OFFICER_ROLES)


# The registry form's own labels (templates/petitions/registry.html), in the order its
# filters_summary names them, and those its "From the link" row gives the filters the form has no
# field for (its linked_filters tag), which name a refused filter in its message: the filterset's
# labels are the API's ("area code: its whole subtree", "overdue").
REGISTRY_FILTER_LABELS = {
    "status": gettext_lazy("Status"),
    "open": gettext_lazy("Completion"),
    "channel": gettext_lazy("Channel"),
    "type": gettext_lazy("Handling type"),
    "category": gettext_lazy("Category"),
    "area": gettext_lazy("Area"),
    "department": gettext_lazy("Routed to"),
    "overdue": gettext_lazy("Deadline"),
    "due_soon": gettext_lazy("Due within 3 days"),
    "repeat": gettext_lazy("Repeat"),
    "group": gettext_lazy("Group"),
    "received_from": gettext_lazy("Received from"),
    "received_to": gettext_lazy("Received to"),
}


@login_required
@require_GET
def registry(request: HttpRequest) -> HttpResponse:
    """All petitions the user may see, soonest deadline first, with the list filters of the API."""
    params = request.GET.copy()
    params.pop("page", None)
    # Closed items (no deadline) last on every database: SQLite sorts NULL first, so the embedded
    # default's first page was all closed petitions.
    qs = selectors.petition_list(request.user).order_by(
        F("due_at").asc(nulls_last=True), "-received_at", "-pk"
    )
    filterset = PetitionFilter(params, queryset=qs, request=request)  # area codes resolve in scope
    qs, filter_error = filtered_rows(filterset, REGISTRY_FILTER_LABELS)
    # Matters and person-times as the indicators count them (a repeat is no new matter, every person
    # of a group counts): one scan, which also gives the pager its count.
    totals = qs.aggregate(
        petitions=Count("id"), matters=Count("id", filter=Q(is_repeat=False)), persons=Sum("persons_count")
    )
    paginator = Paginator(qs, 50)
    paginator.count = totals["petitions"]
    page = paginator.get_page(request.GET.get("page"))
    # The rows' areas and the summary's area named apart from a namesake of the user's scope, as the
    # incident inbox names them: one query for both.
    area_named = filterset.filters["area"].named
    labels = area_labels(request.user, page.object_list, named=area_named.values())
    area_choices = area_filter_choices(request.user)
    return render(
        request,
        "petitions/registry.html",
        {
            "page": page,
            "matters": totals["matters"],
            "persons": totals["persons"] or 0,
            "params": params,
            "query": urlencode([(k, v) for k in params for v in params.getlist(k)]),
            "filter_error": filter_error,
            # The refused filter form in the context: the title says "错误：" from the server.
            "filter_form": filterset.form,
            "statuses": Petition.Status.choices,
            # Several (the home page's "Reviews to decide"): the select takes several and keeps them.
            "chosen_statuses": params.getlist("status"),
            "channels": Petition.Channel.choices,
            "types": Petition.HandlingType.choices,
            "categories": Category.choices,
            "can_register": _is_officer(request.user),
            "area_choices": area_choices,
            # The summary names the values in force: the choices' labels, and an area or department
            # by the name its filter read (no query of its own).
            "filter_labels": REGISTRY_FILTER_LABELS,
            "summary_values": summary_values(
                filterset,
                open={"true": _("open"), "false": _("finished")},
                repeat={"true": _("repeats only"), "false": _("new matters only")},
                # Labelled "Deadline" on this form, the bare label did not say "overdue": the
                # summary reads the form's own choices, as for the repeat filter.
                overdue={"true": _("overdue only")},
                group={"true": _("group petitions only")},
                area={code: labels.get(code, name) for code, name in area_named.items()},
            ),
            "masked_for": user_unit_ids(request.user),
            "uncalendared": uncalendared_years(p.due_at for p in page.object_list),
        },
        status=400 if filter_error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    """Register a letter, call or visit; the form is ordered for the keyboard at a reception desk."""
    if not _is_officer(request.user):
        raise PermissionDenied(_("Only petition officers register petitions."))
    form = IntakeForm(request.POST if request.method == "POST" else None, user=request.user)
    status = 200
    if request.method == "POST":
        try:
            if not form.is_valid():
                # The service's checks (receipt time, ID numbers, phones ...) run on whatever the
                # form could read, so one submit reports every error: they came only on a second
                # submit, after the form's own errors were fixed. Nothing is saved.
                services.petition_register_check(actor=request.user, **form.service_kwargs())
            else:
                petition = services.petition_register(
                    actor=request.user, submission=form.cleaned_data["submission"], **form.service_kwargs()
                )
                if petition.repeat_of_id:
                    # The link is taken only when a typed ID number or phone matches the earlier
                    # petition's petitioners: logged as the repeat check and the API log it.
                    services.log_repeat_matches(
                        actor=request.user, matches=[petition.repeat_of], ip_address=client_ip(request)
                    )
                gone = selectors.registered_out_of_reach(request.user, petition)
                if gone:  # sent again after the officer's area changed: say so, not a 404 page
                    messages.info(request, gone)
                    return redirect("petitions-registry")
                messages.success(request, _("Registered as %(code)s.") % {"code": petition.code})
                if petition.is_repeat:
                    messages.info(
                        request, _("Linked as a repeat of %(code)s.") % {"code": petition.repeat_of.code}
                    )
                return redirect("petitions-detail", code=petition.code)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_service_error(field, error)
        status = 400
    return render(
        request,
        "petitions/intake.html",
        {"form": form, "max_reps": MAX_GROUP_REPRESENTATIVES},
        status=status,
    )


@login_required
@require_safe
def intake_choices(request: HttpRequest) -> HttpResponse:
    """HTMX: the options of the intake page's area select (a street picked lists its communities) or
    of its unit-complained-about select (the units of the area concerned), the chosen one kept
    selected. Only the options are sent back: the selects, and what was typed elsewhere, stay."""
    if not _is_officer(request.user):
        raise PermissionDenied
    field = request.GET.get("field", "")
    area, unit = request.GET.get("area", ""), request.GET.get("complained_unit", "")
    if field == "area":
        empty, chosen = _("Choose the area concerned"), area
        received_on = receipt_day(request.GET.get("received_at", ""))
        groups, _narrowed = selectors.intake_area_choices(request.user, area, received_on)
    elif field == "complained_unit":
        empty, chosen = _("No unit complained about"), unit
        received_on = receipt_day(request.GET.get("received_at", ""))
        groups, _narrowed = selectors.intake_unit_choices(request.user, area, unit, received_on)
    else:
        return HttpResponseBadRequest(_("Unknown field."))
    response = render(
        request, "petitions/_intake_options.html", {"empty": empty, "chosen": chosen, "groups": groups}
    )
    if field == "area" and area and all(value != area for _label, rows in groups for value, _t in rows):
        # The receipt day's areas leave the chosen one out (merged away by then): the select falls
        # back to "choose", which a swap does not announce. Fired after the swap, its change redraws
        # the unit list and reruns the repeat check, which follow the area (and drew for the old one).
        response["HX-Trigger-After-Swap"] = "change"
    return response


@login_required
@require_POST
def repeat_check(request: HttpRequest) -> HttpResponse:
    """HTMX: likely repeats for what has been typed so far (ID numbers / phones, category, area).
    Only hashes are compared; the answer names the earlier petitions, never the people."""
    if not _is_officer(request.user):
        raise PermissionDenied
    id_hashes, phone_hashes = [], []
    for i in range(INTAKE_ROWS):
        id_number = (request.POST.get(f"p{i}_id_number") or "").strip()
        phone = (request.POST.get(f"p{i}_phone") or "").strip()
        with contextlib.suppress(ValidationError):
            id_hashes.append(pii.keyed_hash(pii.validate_resident_id(id_number)) if id_number else "")
        with contextlib.suppress(ValidationError):
            phone_hashes.append(pii.keyed_hash(pii.validate_phone(phone)) if phone else "")
    # Half-typed input is no match, never an error: a NUL character (which PostgreSQL refuses in a
    # query) was a 500.
    area_code, category = (request.POST.get(name, "") for name in ("area", "category"))
    area = Area.objects.filter(code=area_code).first() if "\x00" not in area_code else None
    # Only petitions received by this one's receipt time (as the form reads it; none yet, or a
    # time the registration refuses, to come or too far back: now). 9999-12-31 23:59 overflowed the
    # minute added, and 0001-01-01 (a year typed from its first digit) the database's first date.
    received, now = IntakeForm.base_fields["received_at"], timezone.now()
    try:
        received_by = received.clean(request.POST.get("received_at", "")) or now
    except ValidationError:
        received_by = now
    if not now - services.MAX_RECEIPT_AGE <= received_by <= now:
        received_by = now
    matches = []
    if area is not None and "\x00" not in category:
        matches = list(
            services.likely_repeats(
                category=category,
                area=area,
                id_hashes=id_hashes,
                phone_hashes=phone_hashes,
                user=request.user,
                received_by=received_by,
            )[:5]
        )
        services.log_repeat_matches(actor=request.user, matches=matches, ip_address=client_ip(request))
    return render(
        request,
        "petitions/_repeat_warning.html",
        {"matches": matches, "chosen": request.POST.get("repeat_of", "")},
    )


def _closed_for_good_code(user, petition: Petition) -> str:
    """The number of the closed-for-good petition this one repeats, as the user may be told it
    (``Petition.original_named_for``), or "" when it repeats none."""
    original = petition.closed_for_good_original()
    return petition.original_named_for(user, original) if original else ""


def deadline_rows(petition: Petition) -> list[dict]:
    """The statutory deadlines of the petition page, each with its due date, the day the step was
    done, and whether that was after the limit (``late``). A step done late was shown like one done
    in time, so the page hid what the on-time indicators count against the office.

    A decline is the step it ends: before routing, the routing; after routing, the written notice
    (of non-acceptance); after acceptance, the written opinion. A window the petitioner may use
    (asking for a review) is never late: the office owes nothing there."""
    p = petition
    declined_at = p.closed_at if p.status == Petition.Status.DECLINED else None
    # An extended limit says so where it is named: "书面答复（60 日）：剩余 79 天" beside a date 80 days
    # after the acceptance read as a limit longer than itself.
    reply_label = (
        _("Written reply (60 + %(days)d days)") % {"days": p.extended_days}
        if p.extended_days
        else _("Written reply (60 days)")
    )
    # (key, label, due, done, a window of the petitioner's); a row whose due date is unset is not shown.
    steps = [
        ("route", _("Route or redirect (15 days)"), p.route_due_at,
         p.routed_at or p.redirected_at or (declined_at if not p.routed_at else None), False),
        ("acknowledge", _("Written notice of acceptance (15 days)"), p.acknowledge_due_at,
         p.accepted_at or (declined_at if p.routed_at else None), False),
        ("return", _("Return if wrongly routed (5 working days)"),
         p.return_due_at if p.status == Petition.Status.ROUTED else None, None, False),
        ("reply", reply_label, p.reply_due_at,
         p.replied_at or (declined_at if p.accepted_at else None), False),
        ("review_window", _("Review may be requested until (30 days)"), p.review_request_until,
         p.review_requested_at, True),
        ("review", _("Review decided by (30 days)"), p.review_due_at, p.reviewed_at, False),
        ("re_review_window", _("Re-review may be requested until (30 days)"), p.re_review_request_until,
         p.re_review_requested_at, True),
        ("re_review", _("Re-review decided by (30 days)"), p.re_review_due_at, p.re_reviewed_at, False),
    ]  # fmt: skip
    # A date still ahead of the office (or the petitioner) in a year the calendar lacks says so: it
    # counts plain weekdays and may move when that year's holidays are entered. One read of the
    # calendar for the table (pinned), not one per row.
    with pinned_calendar():
        return [
            {"key": key, "label": label, "due": due, "done": done,
             "late": not window and None not in (done, due) and done > due,
             "uncovered": calendar_lacks_year(due) if due is not None and done is None else None}
            for key, label, due, done, window in steps
            if due is not None or key == "route"
        ]  # fmt: skip


def _detail_context(request: HttpRequest, petition: Petition, failed: dict | None = None) -> dict:
    """What the petition page shows. ``failed`` is a refused step: its action, what was posted and
    the errors by field, so that step's form comes back open with everything typed and each error
    beside its field, not blank under a banner."""
    user = request.user
    failed = failed or {}
    allowed = allowed_actions(user, petition)
    if petition.due_at and "evaluate" in allowed:
        # A review (re-review) decision is running: that is the step owed by the countdown's date
        # and comes first, open; the petitioner's evaluation of the earlier answer, recorded
        # whenever it arrives, waits folded below it (it was the one shown open).
        allowed.remove("evaluate")
        allowed.append("evaluate")
    likely = []
    if "link_repeat" in allowed:
        likely = list(services.likely_repeats_of(petition, user=user)[:5])
        if not likely:
            allowed.remove("link_repeat")
    masked_only = sees_masked_only(user, petition)
    petitioners = list(petition.petitioners.all())
    deadlines = deadline_rows(petition)
    # The step the countdown beside the number counts down to: "1 day left" alone did not say
    # whether the routing, the notice or the reply was due.
    running = Petition.RUNNING_DUE_FIELD.get(petition.status, "").removesuffix("_due_at")
    return {
        # Its area with the names above it where a namesake is in the reader's scope, as the incident
        # inbox names its grids: two "春晖第1网格" of two communities in one scope.
        "area_label": labels_in_scope(user, petition.area)[petition.area.code],
        # The language switch comes back here after a step was refused on the page (posted to an
        # address that only takes POST, which answered the switch with a blank 405).
        "page_url": reverse("petitions-detail", args=[petition.code]),
        "petition": petition,
        "deadlines": deadlines,
        "running_deadline": next((row for row in deadlines if row["key"] == running), None),
        "events": list(selectors.petition_events(petition)),
        "petitioners": petitioners,
        "masked_only": masked_only,
        "can_reveal": may_reveal(user, petition),
        # The unit complained about, shown no petitioner, reads none of their details in the texts.
        "text_mask": pii.TextMask(full=may_reveal(user, petition), people=petitioners, hide=masked_only),
        "actions": [
            {
                "name": a,
                "label": _("request a re-review")
                if a == "request_review" and petition.review_stage == "re_review"
                else ACTION_LABELS[a],
                # The first step is shown open, and a refused one whatever it is.
                "open": a == failed["action"] if failed.get("action") in allowed else i == 0,
                "posted": failed.get("posted", {}) if a == failed.get("action") else {},
                "errors": failed.get("errors", {}) if a == failed.get("action") else {},
            }
            for i, a in enumerate(allowed)
        ],
        "review_window_closed": "request_review" in allowed and petition.review_request_window_closed(),
        "likely_repeats": likely,
        "approvers": list(selectors.extension_approvers(petition, user).only("username", "display_name"))
        if "extend" in allowed
        else [],
        "departments": list(selectors.routing_departments(user, petition))
        if petition.status == "registered" or "reroute" in allowed
        else [],
        "routes": Petition.Route.choices,
        "opinions": petition.reply_choices(),
        "evaluations": Petition.Evaluation.choices,
        "decisions": Petition.Decision.choices,
        "types": [c for c in Petition.HandlingType.choices if c[0] != petition.handling_type],
        # A repeat is the same person: its link to the other petition would tell the unit complained
        # about who complained, through the one the unit handles and may reveal. The unit sees
        # neither end of such a link (``repeat_link_hidden``; ``repeats`` leaves out its complaints).
        "repeat_of_visible": not repeat_link_hidden(user, petition),
        # On a complaint about the user's unit, none: each is the complainant again, and the unit
        # may handle (and reveal) any of them.
        "repeats": []
        if masked_only
        else list(
            # Only those the user may see: another is a 404 to them, and its number, the same person.
            Petition.objects.visible_to(user)
            .filter(repeat_of=petition)
            .exclude(complained_unit_id__in=user_unit_ids(user))
            .only("code", "received_at")
        ),
        "closed_for_good_original": _closed_for_good_code(user, petition)
        if petition.repeat_of_id and petition.is_open and not masked_only
        else "",
    }


@login_required
@require_GET
def detail(request: HttpRequest, code: str) -> HttpResponse:
    petition = selectors.petition_get_for_user(request.user, code)
    return render(request, "petitions/detail.html", _detail_context(request, petition))


@login_required
@require_POST
def act(request: HttpRequest, code: str) -> HttpResponse:
    """One workflow step from the petition page. A refused step re-renders the page with the reason
    and the status the API would give (400 / 403 / 409); nothing is saved."""
    petition = selectors.petition_get_for_user(request.user, code, write=True)
    form = ActionForm(request.POST)
    step = run_step(
        form,
        lambda: services.petition_transition(
            petition=petition,
            actor=request.user,
            action=form.cleaned_data["action"],
            note=form.cleaned_data.get("note") or "",
            state=form.cleaned_data.get("state") or None,
            **form.action_fields(),
        ),
        may_take=lambda: may_take_step(
            request.user,
            petition,
            workflow=WORKFLOW,
            may_perform=may_perform,
            action=request.POST.get("action"),
        ),
        refusal=_("Your role may take no such step on this petition."),
    )
    if step.event:
        messages.success(request, step.event.done_message(petition.code))
        return redirect_after_step(request, petition, detail="petitions-detail", listing="petitions-registry")
    # The page as it is now, with the refused step's form as it was filled in; the banner stays for
    # refusals that name no field (not from this state, not this user's).
    petition = selectors.petition_get_for_user(request.user, code)
    failed = {"action": request.POST.get("action", ""), "posted": request.POST, "errors": step.field_errors}
    context = _detail_context(request, petition, failed)
    # Under ``error``: the banner, and the "错误：" the server writes before the page's title
    # (governance/templatetags/refused.py), which only the script added, and not without it.
    context["error"] = step.error
    return render(request, "petitions/detail.html", context, status=step.status)


@login_required
@require_POST
def reveal(request: HttpRequest, code: str, petitioner_id: int) -> HttpResponse:
    """Reveal one petitioner to an officer handling the item (HTMX swaps the row); logged.

    Who may reveal is decided before the form is read: anyone else (the unit complained about above
    all) gets 403 with nothing rendered, not even the masked row, and nothing logged."""
    petition = selectors.petition_get_for_user(request.user, code)
    if not may_reveal(request.user, petition):
        # Before the petitioner is looked up: a 404 for another number would tell the unit
        # complained about, which sees no petitioner at all, which rows belong to the complaint.
        raise PermissionDenied(_("Only the officers handling this petition may see who brought it."))
    person = get_visible_or_404(petition.petitioners.all(), pk=petitioner_id)
    form = RevealForm(request.POST)
    error, revealed = None, None
    status = 400  # when refused: a reason missing or too long; 429 past the user's reveal limit
    if not form.is_valid():
        error = errors_text(form.errors)
    else:
        try:
            revealed = services.petitioner_reveal(
                petition=petition,
                petitioner=person,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            error = errors_text(exc)
        except RevealLimitReached as exc:
            error, status = str(exc), 429
    context = {
        "petition": petition,
        "person": person,
        "revealed": revealed,
        "reveal_error": error,
        "reason": request.POST.get("reason", ""),  # kept in the field when the reveal is refused
        "can_reveal": may_reveal(request.user, petition),
        "fields": PERSON_FIELDS,
    }
    if request.headers.get("HX-Request"):
        return render(request, "petitions/_petitioner.html", context)
    # A page of its own (no htmx): its refusal as ``error`` too, which the title's "错误：" reads.
    return render(
        request, "petitions/reveal.html", {**context, "error": error}, status=status if error else 200
    )


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """A department's inbox: items routed to it waiting for acceptance or a reply, by deadline;
    ``?overdue=true`` (the home page's "Overdue" count) keeps the late ones."""
    items = selectors.department_inbox(request.user)
    # Read as the registry reads it (true or false, else a 400 naming it): ``?overdue=yes`` listed
    # every item, the filter dropped without a word.
    wanted = {"overdue": request.GET["overdue"]} if "overdue" in request.GET else {}
    filterset = PetitionFilter(wanted, queryset=items, request=request)
    items, filter_error = filtered_rows(filterset)
    overdue = wanted.get("overdue") == "true"
    # Paged as the registry is: the first 300 were shown and the rest silently left out.
    page = Paginator(items.order_by("due_at", "pk"), 50).get_page(request.GET.get("page"))
    area_labels(request.user, page.object_list)  # a namesake of the user's scope told apart
    uncalendared = uncalendared_years(p.due_at for p in page.object_list)
    return render(
        request,
        "petitions/inbox.html",
        {
            "items": page.object_list,
            "page": page,
            "query": "overdue=true" if overdue else "",
            "overdue": overdue,
            "filter_error": filter_error,
            "filter_form": filterset.form,  # refused: the title says so (as on the registry)
            "masked_for": user_unit_ids(request.user),
            "uncalendared": uncalendared,
        },
        status=400 if filter_error else 200,
    )
