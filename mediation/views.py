"""Pages of the mediation app: the mediator's home, the case list, registering a case, the case page
(parties masked with a logged reveal, timeline, sessions, outcome, agreement, judicial confirmation,
follow-up), the printable agreement, the organisation head's page and the conversion of a grid
incident into a case."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance import pii
from governance.access import get_visible_or_404
from governance.forms import errors_text
from governance.models import Role
from governance.pagination import DeferredJoinPaginator
from governance.periods import uncalendared_years
from governance.rest import may_take_step
from governance.services import RevealLimitReached, client_ip
from governance.templatetags.filters import summary_values
from governance.views import (
    StepResult,
    area_filter_choices,
    area_labels,
    filtered_rows,
    first_and_total,
    labels_in_scope,
    redirect_after_step,
    run_step,
)
from governance.workflow import WorkflowError, latest_step_subquery
from mediation import selectors, services
from mediation.filters import DisputeFilter
from mediation.forms import (
    ActionForm,
    IncidentConvertForm,
    PartyForm,
    RegisterForm,
    RevealForm,
    SessionForm,
    organisation_choices,
)
from mediation.models import (
    ACTION_LABELS,
    CONFIRMATION_WARN_DAYS,
    WORKFLOW,
    DisputeCase,
    DisputeEvent,
    DisputeParty,
    MediationOrganisation,
    allowed_actions,
    head_organisation_ids,
    may_perform,
    may_reveal,
    time_limit_due,
)

# The most cases waiting for acceptance the desk lists; the rest are on the case list it links to.
INTAKE_SHOWN = 50


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The mediator's desk: my open cases by deadline (overdue first), agreements whose judicial
    confirmation window is closing, and links to the organisations I head."""
    user = request.user
    if (
        not selectors.organisations_of(user).exists()
        and not user.has_role(Role.MEDIATOR)
        and not user.is_superuser
    ):
        return redirect("mediation-cases")
    now = timezone.now()
    visible = selectors.dispute_list(user)
    mine = list(visible.filter(mediator=user).open().order_by("due_at", "received_at")[:200])
    # Every case waiting is counted: past the first INTAKE_SHOWN the rest went unmentioned.
    intake, intake_count = first_and_total(selectors.intake(user).order_by("received_at"), INTAKE_SHOWN)
    closing = list(selectors.closing_confirmations(user, now).order_by("confirmation_due")[:50])
    take_over = list(selectors.cases_to_take_over(user).order_by("due_at", "received_at")[:50])
    follow_ups = list(
        selectors.follow_ups_due(user, timezone.localdate(now)).order_by("performance_due", "concluded_at")[
            :50
        ]
    )
    # The rows' areas named apart from a namesake of the user's scope (one query for the three lists).
    area_labels(user, mine, intake, take_over)
    return render(
        request,
        "mediation/home.html",
        {
            "mine": mine,
            "overdue_count": sum(1 for c in mine if c.is_overdue),
            # A time limit listed in a year the calendar lacks counts plain weekdays (the petition
            # lists say the same); the calendar is read once for the list.
            "uncalendared": uncalendared_years(
                c.due_at for c in mine if c.status in DisputeCase.RUNNING_STATUSES
            ),
            "intake": intake,
            "intake_count": intake_count,
            # Listed cases that may turn violent and were never reported to the police (人民调解法
            # art. 25), each flagged on its row too: from the rows' own columns, no query more.
            "risk_unreported": len(
                {
                    c.pk
                    for c in (*mine, *intake, *take_over)
                    if c.risk_violence and c.police_reported_at is None and c.is_open
                }
            ),
            "closing": closing,
            "take_over": take_over,
            "follow_ups": follow_ups,
            "warn_days": CONFIRMATION_WARN_DAYS,
            "organisations": list(selectors.organisations_of(user)),
            "head_of": head_organisation_ids(user),
        },
    )


# The filter forms' own labels (templates/mediation/list.html, organisation.html), in the order the
# list's filters_summary names them, and those its "From the link" row gives the filters the form has
# no field for (its linked_filters tag), which name a refused filter in its message: the filterset's
# labels are the API's ("area code: its whole subtree").
LIST_FILTER_LABELS = {
    "status": gettext_lazy("Status"),
    "open": gettext_lazy("Completion"),
    "category": gettext_lazy("Category"),
    "source": gettext_lazy("Source"),
    "outcome": gettext_lazy("Outcome"),
    "area": gettext_lazy("Area"),
    "organisation": gettext_lazy("Organisation"),
    "mediator": gettext_lazy("Mediator"),
    "received_from": gettext_lazy("Received from"),
    "received_to": gettext_lazy("Received to"),
    "concluded_from": gettext_lazy("Concluded from"),
    "concluded_to": gettext_lazy("Concluded to"),
    "overdue": gettext_lazy("Overdue"),
}


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """All cases the user may read, filterable (district staff read statistics and progress here;
    parties are always masked in lists)."""
    params = request.GET.copy()
    base = selectors.dispute_list(request.user).order_by("-received_at", "-id")
    filterset = DisputeFilter(params, queryset=base, request=request)  # area codes resolve in scope
    qs, filter_error = filtered_rows(filterset, LIST_FILTER_LABELS)
    page = DeferredJoinPaginator(qs, 50).get_page(request.GET.get("page"))
    cases = list(page.object_list)
    # The rows' areas and the summary's area named apart from a namesake of the user's scope, as the
    # incident inbox names them: one query for both.
    area_named = filterset.filters["area"].named
    labels = area_labels(request.user, cases, named=area_named.values())
    query = params.copy()
    query.pop("page", None)
    categories = list(selectors.active_categories())  # the form's and the summary's
    area_choices = area_filter_choices(request.user)
    return render(
        request,
        "mediation/list.html",
        {
            "page": page,
            "cases": cases,
            "filterset": filterset,
            "filter_error": filter_error,
            # The refused filter form in the context: the title says "错误：" from the server.
            "filter_form": filterset.form,
            "query": query.urlencode(),
            "params": params,
            "statuses": DisputeCase.Status.choices,
            "origins": DisputeCase.Origin.choices,
            "outcomes": DisputeCase.Outcome.choices,
            "categories": categories,
            "area_choices": area_choices,
            # The summary names the values in force: the choices' labels, and an area, organisation
            # or mediator by the name its filter read (no query of its own).
            "filter_labels": LIST_FILTER_LABELS,
            "summary_values": summary_values(
                filterset,
                open={"true": _("open"), "false": _("finished")},
                category={c.code: c.label for c in categories},
                area={code: labels.get(code, name) for code, name in area_named.items()},
            ),
            # Handlers land here (they have no mediator desk): their way to refer a case.
            "can_register": services.may_register(request.user),
        },
        status=400 if filter_error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not services.may_register(user):  # as the API: an organisation's member registers too
        raise PermissionDenied(_("Your role may not register dispute cases."))
    # Mediators register for their own organisations; handlers refer to one in their area or to
    # the street / district centre above it.
    mine = selectors.member_organisation_ids(user)
    # Only a referrer (handler, district staff) hands a case to another organisation: a mediator not
    # yet in any was offered the organisations of their area, and each choice was refused.
    refers = user.is_superuser or user.has_role(*selectors.REFERRER_ROLES)
    # A city-level referrer may choose among thousands: the page lists at most
    # ORGANISATION_CHOICES_MAX, narrowed by the filter typed beside the list, and the form accepts
    # every organisation of ``allowed`` (the service's own rule), listed or not.
    allowed = selectors.registration_organisations(user)
    data = request.POST if request.method == "POST" else request.GET
    org_query = (data.get("org_q") or "").strip()[:100]
    organisations, more = selectors.organisation_choices(allowed, org_query)
    narrowing = request.method == "POST" and "narrow" in request.POST
    if narrowing:
        # The filter's button is in the register form, so what was typed comes back as typed; the
        # form is not checked (nothing is registered) and shows no errors yet.
        form = RegisterForm(
            initial=request.POST.dict(), organisations=organisations, allowed=allowed, own=mine
        )
    else:
        # Bound on every POST: an empty body ("or None") left the form unbound and its check unreadable.
        posted = request.POST if request.method == "POST" else None
        form = RegisterForm(posted, organisations=organisations, allowed=allowed, own=mine)
    # The places in service on the receipt day typed (a form sent back), as the registration judges.
    received_on = None
    if form.is_bound and "received_at" not in form.errors:
        received_on = services.registration_day(form.cleaned_data.get("received_at"), timezone.now())
    areas, grids_listed = selectors.registration_areas(user, received_on)
    if request.method == "POST" and not narrowing:
        try:
            if not form.is_valid():
                # The service's checks (area, receipt time, ID numbers, phones ...) run on whatever
                # the form could read, so one submit reports every error: they came only on a
                # second submit, after the form's own errors were fixed. Nothing is saved.
                services.dispute_register_check(actor=user, **form.service_kwargs())
            else:
                case = services.dispute_register(
                    actor=user, submission=form.cleaned_data["submission"], **form.service_kwargs()
                )
                if not selectors.dispute_list(user).filter(pk=case.pk).exists():
                    # Sent again after the case was transferred out of reach: say so, not 404.
                    messages.info(request, selectors.registered_out_of_reach(case))
                    return redirect("mediation-cases")
                messages.success(request, _("Case %(code)s registered.") % {"code": case.code})
                return redirect("mediation-case", code=case.code)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_service_error(field, error)
    return render(
        request,
        "mediation/register.html",
        {
            "form": form,
            "party_rows": form.party_rows(),
            "areas": areas,
            "grids_listed": grids_listed,
            "no_organisation": not mine and not refers,
            "org_query": org_query,
            # The filter is offered where the list is long (or was already narrowed).
            "org_filter": more or bool(org_query),
            "org_more": more,
            "org_max": selectors.ORGANISATION_CHOICES_MAX,
            "org_areas": area_filter_choices(user) if more or org_query else [],
        },
        status=400 if request.method == "POST" and not narrowing else 200,
    )


def _case_context(request: HttpRequest, case: DisputeCase, failed: dict | None = None) -> dict:
    """What the case page shows. ``failed`` is a refused step: its action, what was posted and the
    errors by field, so that step's form comes back open with everything typed and each error beside
    its field (as the incident page does), not blank under a banner."""
    user = request.user
    actions = allowed_actions(user, case)
    parties = list(case.parties.all())
    members = []
    # Only the head (or a superuser) assigns a case to someone else: a plain member accepting takes
    # it on themselves, so offering them a colleague only led to a refusal.
    assigns = user.is_superuser or case.organisation_id in head_organisation_ids(user)
    takes_over = "reassign" in actions and not assigns  # a member, for want of a head
    if takes_over:
        members = [user]
    elif case.organisation_id and ("reassign" in actions or ("accept" in actions and assigns)):
        # Those who can take the case: a deactivated account (someone who left) was offered, and
        # choosing it was refused as "not a member of the organisation".
        members = selectors.assignable_members(case.organisation)
    # Accepting with the mediator left empty takes the case on oneself: a member is offered
    # "myself" once, not that and their own name again further down the list.
    member_self = any(m.pk == user.pk for m in members)
    today = timezone.localdate()
    # The last day the court takes a joint application: past it, an application is recorded only as
    # made in time (dated within the window), so that step no longer opens on its own with today.
    applied_max = min(today, case.confirmation_due) if case.confirmation_due else today
    primary = {"accept", "start", "record_confirmation", "close"} | (
        {"conclude"} if case.status == DisputeCase.Status.IN_MEDIATION else set()
    )
    if case.risk_violence and case.police_reported_at is None:
        # The escalation duty (人民调解法 art. 25): a dispute that may turn violent is reported to
        # the police. Folded among the occasional steps, a case registered at risk went through
        # mediation with nothing saying it never was.
        primary.add("report_risk")
    window_open = case.confirmation_due is None or case.confirmation_due >= today
    if window_open:
        primary.add("apply_confirmation")
    failed = failed or {}
    action_forms = [
        {
            "name": action,
            # The usual next step is shown open; occasional ones (transfer, extend, ...) stay folded,
            # as does ending an accepted case before any session (a refusal or a withdrawal). A
            # refused step stays open whatever it is.
            "open": action in primary
            or action == failed.get("action")
            or (action == "reassign" and takes_over),
            "posted": failed.get("posted", {}) if action == failed.get("action") else {},
            "errors": failed.get("errors", {}) if action == failed.get("action") else {},
            "routes": failed.get("routes", []) if action == failed.get("action") else [],
        }
        for action in actions
        if action != "record_session"
    ]
    events = list(selectors.dispute_events(case))
    return {
        # Its area with the names above it where a namesake is in the reader's scope, as the incident
        # inbox names its grids: two "春晖第1网格" of two communities in one scope.
        "area_label": labels_in_scope(user, case.area)[case.area.code],
        # The language switch comes back here after a step was refused on the page (posted to an
        # address that only takes POST, which answered the switch with a blank 405).
        "page_url": reverse("mediation-case", args=[case.code]),
        "case": case,
        "parties": parties,
        "party_roles": DisputeParty.PartyRole.choices,
        "party_clear": PartyForm.base_fields["clear"].choices,
        "events": events,
        "risk_unreported": case.risk_violence and case.police_reported_at is None and case.is_open,
        "extension_in_force": case.extension_in_force(events),
        # Days left to the time limit of a running case, beside the date (the petition page counts
        # down its deadline; "Conclude by 2027-01-01" alone left the mediator to count).
        "due_days_left": (timezone.localdate(case.due_at) - timezone.localdate()).days
        if case.due_at and case.status in DisputeCase.RUNNING_STATUSES and not case.is_overdue
        else None,
        "sessions": list(selectors.dispute_sessions(case)),
        "actions": actions,
        "action_forms": action_forms,
        "action_labels": ACTION_LABELS,
        "can_reveal": may_reveal(user, case),
        "text_mask": pii.TextMask(full=may_reveal(user, case), people=parties),
        "can_session": "record_session" in actions,
        "session_form": SessionForm(initial={"held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}),
        "members": members,
        "accept_members": [m for m in members if m.pk != user.pk] if member_self else members,
        "member_self": member_self,
        "takes_over": takes_over,
        "transfer_targets": (
            organisation_choices(selectors.transfer_targets(case), lambda o: f"{o.name} · {o.area.name}")
            if "transfer" in actions
            else []
        ),
        "organisations": list(selectors.organisations_of(user))
        if "accept" in actions and not case.organisation_id
        else [],
        "outcomes": [
            (value, label)
            for value, label in DisputeCase.Outcome.choices
            if case.status != DisputeCase.Status.ACCEPTED or value in DisputeCase.UNMEDIATED_OUTCOMES
        ],
        "routes": DisputeCase.Route.choices,
        "follow_ups": DisputeCase.FollowUp.choices,
        # Closing is allowed while the court may still be asked, or before any visit: the close step
        # says so (a closed case still records both), nothing is refused.
        "close_window_open": "close" in actions
        and case.confirmation_days_left is not None
        and case.confirmation_days_left >= 0,
        "close_unvisited": "close" in actions and case.is_success and not case.follow_up,
        # A visit before the day by which the agreement is carried out: performed early, or not yet.
        "visit_early": "follow_up" in actions
        and case.performance_due is not None
        and today < case.performance_due,
        "warn_days": CONFIRMATION_WARN_DAYS,
        "today": today.isoformat(),
        "applied_max": applied_max.isoformat(),
        "applied_default": today.isoformat() if window_open else "",  # past the window: the real day
        # The earliest day an agreement may take effect (the model refuses one before it): the
        # receipt, or the first session once one is recorded.
        "received_on": case.agreement_earliest_day().isoformat() if "conclude" in actions else "",
        # What the parties consent to: the limit the one extension would set.
        "extended_due": time_limit_due(case.due_at) if "extend" in actions and case.due_at else None,
    }


@login_required
@require_GET
def case_detail(request: HttpRequest, code: str) -> HttpResponse:
    case = selectors.dispute_get_for_user(request.user, code)
    return render(request, "mediation/case.html", _case_context(request, case))


@login_required
@require_POST
def case_act(request: HttpRequest, code: str) -> HttpResponse:
    """One workflow step from the case page. A refused step re-renders the page with the reason and
    the status the API would give (400 invalid input, 403 forbidden, 409 not from this state:
    DESIGN.md section 5); nothing is saved."""
    case = selectors.dispute_get_for_user(request.user, code, write=True)
    form = ActionForm(request.POST)
    if form.is_valid() and form.cleaned_data["action"] == "record_session":
        # As in the API: a session has its own form and fields. Through here the case moved into
        # mediation with a "session" on its timeline and no session recorded.
        step = StepResult(
            None,
            _("Record a session with the session form: it needs the date, place, attendees and summary."),
            400,
            {},
        )
    else:
        step = run_step(
            form,
            lambda: services.dispute_transition(
                case=case,
                actor=request.user,
                action=form.cleaned_data["action"],
                note=form.cleaned_data.get("note", ""),
                state=form.cleaned_data.get("state") or None,
                **form.action_fields(),
            ),
            may_take=lambda: may_take_step(
                request.user,
                case,
                workflow=WORKFLOW,
                may_perform=may_perform,
                action=request.POST.get("action"),
            ),
            refusal=_("Your role may take no such step on this case."),
        )
    if step.event:
        messages.success(request, step.event.done_message(case.code))
        if step.event.action == "conclude" and case.is_success and case.confirmation_due:
            messages.info(
                request,
                _("Judicial confirmation: both parties may apply jointly to the court by %(date)s.")
                % {"date": case.confirmation_due.isoformat()},
            )
        return redirect_after_step(request, case, detail="mediation-case", listing="mediation-cases")
    # Re-read: the refused step changed nothing, and the page shows the case as it is, with the
    # step's form as the user filled it in. The banner stays: a refusal without a field (not from
    # this state) has nowhere else to go.
    case = selectors.dispute_get_for_user(request.user, code)
    failed = {
        "action": request.POST.get("action", ""),
        "posted": request.POST,
        "errors": step.field_errors,
        "routes": request.POST.getlist("other_routes"),
    }
    context = _case_context(request, case, failed)
    # Under ``error``: the banner, and the "错误：" the server writes before the page's title
    # (governance/templatetags/refused.py), which only the script added, and not without it.
    context["error"] = step.error
    return render(request, "mediation/case.html", context, status=step.status)


@login_required
@require_POST
def case_session(request: HttpRequest, code: str) -> HttpResponse:
    case = selectors.dispute_get_for_user(request.user, code, write=True)
    form = SessionForm(request.POST)
    error, status = None, 400
    if not form.is_valid() and not may_perform(request.user, case, WORKFLOW.get("record_session")):
        # Not this user's session to record: the 403 a complete form gets, not what to fix.
        error, status = _("Your role may take no such step on this case."), 403
    elif not form.is_valid():
        # The service's checks (a time to come, or before the case came in) on what the form could
        # read, so one submit names every error: they came on a second one. A field the form
        # refused keeps its own message.
        read = {"held_at": None, "place": "", "attendees": "", "summary": "", **form.cleaned_data}
        try:
            services.dispute_session_check(case=case, **read)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                if field in form.fields and field not in form.errors:
                    form.add_error(field, errors)
    else:
        try:
            services.dispute_record_session(case=case, actor=request.user, **form.cleaned_data)
        except WorkflowError as exc:
            # Refused like any other step: 409 not from this state, 403 not this user's case.
            error, status = exc.message, exc.status_code
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("Session recorded."))
            return redirect("mediation-case", code=case.code)
    context = _case_context(request, case)
    context["session_form"] = form
    context["error"] = error
    return render(request, "mediation/case.html", context, status=status)


@login_required
@require_POST
def party_reveal(request: HttpRequest, code: str, party_id: int) -> HttpResponse:
    """Reveal one party's details (HTMX swaps the row); every reveal is logged with its reason.

    Who may reveal is decided before the form is read: anyone else gets 403 with nothing rendered
    and nothing logged."""
    case = selectors.dispute_get_for_user(request.user, code)
    party = get_visible_or_404(case.parties.all(), pk=party_id)
    if not may_reveal(request.user, case):
        raise PermissionDenied(
            _("Only the assigned mediator and the organisation head may see parties' personal data.")
        )
    form = RevealForm(request.POST)
    error = None
    revealed = None
    status = 400  # when refused: a reason missing or too long; 429 past the user's reveal limit
    if not form.is_valid():
        # A blank reason gets the plain request; anything else (too long) says what is wrong.
        error = (
            errors_text(form.errors, form)
            if request.POST.get("reason", "").strip()
            else _("Say why you need to see this person's details.")
        )
    else:
        try:
            revealed = services.party_reveal(
                case=case,
                party=party,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            error = errors_text(exc)
        except RevealLimitReached as exc:
            error, status = str(exc), 429
    context = {
        "case": case,
        "party": party,
        "revealed": revealed,
        "reveal_error": error,
        "reason": request.POST.get("reason", ""),  # kept in the field when the reveal is refused
        "can_reveal": may_reveal(request.user, case),
        "party_roles": DisputeParty.PartyRole.choices,
        "party_clear": PartyForm.base_fields["clear"].choices,
    }
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx answers: the row carries its own error message.
        return render(request, "mediation/_party.html", context)
    # A page of its own (no htmx): its refusal as ``error`` too, which the title's "错误：" reads.
    return render(
        request, "mediation/reveal.html", {**context, "error": error}, status=status if error else 200
    )


@login_required
@require_POST
def party_edit(request: HttpRequest, code: str, party_id: int) -> HttpResponse:
    case = selectors.dispute_get_for_user(request.user, code, write=True)
    party = get_visible_or_404(case.parties.all(), pk=party_id)
    form = PartyForm(request.POST)
    error, status = None, 400
    fields: list[str] = []  # the form's fields the refusal names: marked, described by its message
    if not form.is_valid():
        error = errors_text(form.errors, form)
        fields = [name for name in form.errors if name in form.fields]
    else:
        try:
            services.dispute_party_update(
                case=case, party=party, actor=request.user, ip_address=client_ip(request), **form.cleaned_data
            )
        except WorkflowError as exc:
            # Refused like any other step: 409 on a concluded case.
            error, status = exc.message, exc.status_code
        except ValidationError as exc:
            error = errors_text(exc, form)
            fields = [name for name in getattr(exc, "error_dict", {}) if name in form.fields]
        else:
            messages.success(request, _("The party's details were updated."))
            return redirect("mediation-case", code=case.code)
    # Re-render with that party's edit form open and refilled: a redirect lost what was typed.
    case = selectors.dispute_get_for_user(request.user, code)
    context = _case_context(request, case)
    context["party_edit"] = {
        "id": party.pk, "error": error, "fields": fields, "data": request.POST, "clear": request.POST.getlist("clear"),
    }  # fmt: skip
    if status != 400:
        # The concluded case offers no edit form to carry the refusal: the banner says it.
        context["error"] = error
    else:
        # Shown beside the form, not in the banner; the refused form in the context gives the
        # title its "错误：" (governance/templatetags/refused.py), with the service's refusal too.
        if not form.errors:
            form.add_error(None, error)
        context["party_form"] = form
    return render(request, "mediation/case.html", context, status=status)


@login_required
@require_GET
def agreement_print(request: HttpRequest, code: str) -> HttpResponse:
    """The agreement (调解协议书) on A4 for printing from the browser. Parties' full details appear
    only for those allowed to reveal them, and printing them is logged as a reveal."""
    case = selectors.dispute_get_for_user(request.user, code)
    if not case.is_success:
        raise Http404(_("This case has no agreement."))
    parties = list(case.parties.all())
    full = may_reveal(request.user, case)
    if full:
        from governance.services import personal_data_reveal

        for p in parties:
            personal_data_reveal(
                actor=request.user,
                obj=p,
                record=case.code,
                fields=list(p.PERSONAL_FIELDS),
                reason=gettext_lazy("printing the mediation agreement"),
                ip_address=client_ip(request),
            )
    context = {
        "case": case,
        "parties": parties,
        "full": full,
        "text_mask": pii.TextMask(full=full, people=parties),
    }
    return render(request, "mediation/agreement.html", context)


@login_required
@require_GET
def organisation_page(request: HttpRequest, pk: int) -> HttpResponse:
    """For the head: every case of the organisation, reassignment, and workload per mediator."""
    organisation = selectors.organisation_get_for_head(request.user, pk)
    params = request.GET.copy()
    if not params:
        params["open"] = "true"
    elif params.get("status"):
        # A status chosen in the form decides alone: the "open only" select, shown at "yes" by default,
        # was sent along with it, so choosing "closed" or "concluded" listed no cases at all.
        params.pop("open", None)
    base = (
        selectors.dispute_list(request.user)
        .filter(organisation=organisation)
        # Each row's latest event, for its reassignment form's ``state`` (no query per row).
        .annotate(latest_step_id=latest_step_subquery(DisputeEvent, "case"))
        .order_by("due_at", "-received_at", "-pk")
    )
    filterset = DisputeFilter(params, queryset=base, request=request)  # area codes resolve in scope
    # As on the case list: a refused filter is a 400, named by the form's label.
    qs, filter_error = filtered_rows(filterset, LIST_FILTER_LABELS)
    page = DeferredJoinPaginator(qs, 50).get_page(request.GET.get("page"))
    query = params.copy()
    query.pop("page", None)  # the page links keep the filters
    return render(
        request,
        "mediation/organisation.html",
        {
            "organisation": organisation,
            "workload": selectors.organisation_workload(organisation),
            "page": page,
            "cases": list(page.object_list),
            "members": selectors.assignable_members(organisation),  # the workload keeps everyone
            "params": params,
            "query": query.urlencode(),
            "statuses": DisputeCase.Status.choices,
            "filter_error": filter_error,
            "filter_form": filterset.form,  # refused: the title says so (as on the case list)
        },
        status=400 if filter_error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def from_incident(request: HttpRequest, incident_code: str) -> HttpResponse:
    """Turn a grid incident of a dispute category into a case in one step (handlers and mediators
    who can see the incident). If it was converted already, go to its case."""
    from grids.models import Incident  # mediation knows grids, never the reverse

    user = request.user
    # Scope first: an incident outside the user's area is a 404 whatever their role.
    incident = get_visible_or_404(
        Incident.objects.visible_to(user).select_related("category", "grid"), code=incident_code
    )
    if not services.may_register(user):  # as the API: an organisation's member registers too
        raise PermissionDenied(_("Your role may not register dispute cases."))
    existing = selectors.dispute_for_incident(incident)
    if existing is not None:
        messages.info(request, _("This incident is already case %(code)s.") % {"code": existing.code})
        return redirect("mediation-case", code=existing.code)
    # The grid named as the inbox's row names it (two "春晖第1网格" of two communities in one scope).
    grid_label = labels_in_scope(user, incident.grid)[incident.grid.code]
    # The organisations that serve the incident's grid (their area contains it, the city's
    # included: a city committee was never offered, its members could not convert at all). As on
    # the register page, a mediator registers for their own; a referrer (handler, district staff)
    # hands the case to any of them. A mediator was offered the community's committee and the
    # centres above it, and each choice was refused.
    if incident.is_done:
        # Nothing to offer: the page says why, and a form posted anyway saves nothing.
        return render(
            request,
            "mediation/from_incident.html",
            {
                "incident": incident,
                "grid_label": grid_label,
                "done_error": services.incident_done_message(incident),
            },
            status=400 if request.method == "POST" else 200,
        )
    serving = MediationOrganisation.objects.filter(
        is_active=True, area__path__in=_ancestor_paths(incident.grid.path)
    )
    if not (user.is_superuser or user.has_role(*selectors.REFERRER_ROLES)):
        serving = serving.filter(pk__in=selectors.member_organisation_ids(user))
    organisations = list(serving.select_related("area").order_by("-area__depth", "name"))
    form = IncidentConvertForm(
        request.POST if request.method == "POST" else None, organisations=organisations
    )
    if request.method == "POST" and form.is_valid():
        try:
            case = services.dispute_from_incident(
                actor=user,
                incident=incident,
                organisation=form.cleaned_data.get("organisation") or None,
                category=form.cleaned_data["category"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(
                request,
                _("Case %(code)s created from incident %(inc)s.") % {"code": case.code, "inc": incident.code},
            )
            return redirect("mediation-case", code=case.code)
    return render(
        request,
        "mediation/from_incident.html",
        {"incident": incident, "grid_label": grid_label, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _ancestor_paths(path: str) -> list[str]:
    codes = path.strip("/").split("/")
    return ["/".join(codes[: i + 1]) + "/" for i in range(len(codes))]
