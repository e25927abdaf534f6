from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from rest_framework.exceptions import ValidationError as DRFValidationError

from governance.access import NOT_FOUND
from governance.api import AreaSubtreeFilter
from governance.codes import is_code
from governance.forms import LoginForm, OwnPasswordChangeForm, errors_text, own_password_confirmed
from governance.homes import home_sections
from governance.models import Area, Holiday, record_id
from governance.services import (
    audit,
    notification_mark_read,
    notifications_mark_read,
    user_token_issue,
    user_tokens_revoke,
)
from governance.text import join_sentences
from governance.workflow import WorkflowError, step_field_errors

log = logging.getLogger(__name__)

# When /healthz last warned that the broker is down (time.monotonic(), this process), None before.
# A degraded probe is a 200, so a broker outage left nothing in the web's log (only the probe's
# body said it), yet a load balancer probes every few seconds: once a minute per process says it without
# burying the rest of the log. A module global is enough: each gunicorn worker warns on its own,
# and a lost race between two threads costs at most one more line.
_broker_warned_at: float | None = None
BROKER_WARNING_INTERVAL = 60  # seconds


def _warn_broker_down(detail: str) -> None:
    global _broker_warned_at
    now = time.monotonic()
    if _broker_warned_at is not None and now - _broker_warned_at < BROKER_WARNING_INTERVAL:
        return
    _broker_warned_at = now
    log.warning(
        "healthz: the broker does not answer (%s); notices wait in the outbox (at most one warning a minute)",
        detail,
    )


def _broker_status() -> tuple[bool, str]:
    from governance.celery import app

    if app.conf.task_always_eager:
        return True, "eager"
    import redis

    # redis-py reads the whole URL as Celery does: user and (percent-encoded) password, TLS for
    # rediss://, the database. A one-second budget: never hangs a load balancer's probe on a dead broker.
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping()), "ok"
    except redis.RedisError as exc:
        return False, type(exc).__name__
    finally:
        client.close()


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: under /api/ a path that matches no endpoint is JSON with a ``detail`` like
    every other API error (DESIGN.md section 7), not the site's HTML page; pages keep that page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(NOT_FOUND)}, status=404)
    return defaults.page_not_found(request, exception)


def redirect_after_step(request: HttpRequest, record, *, detail: str, listing: str) -> HttpResponse:
    """After a workflow step from a record's page: back to the page, or to the list when the step
    took the record out of the user's sight (a department returned a petition, a mediator
    transferred a case), where the page would now be a 404."""
    if type(record).objects.visible_to(request.user).filter(pk=record.pk).exists():
        return redirect(detail, code=record.code)
    messages.info(request, _("You no longer have access to %(code)s.") % {"code": record.code})
    return redirect(listing)


def step_form_errors(form: forms.Form, perform: Callable[[], object]) -> dict[str, str]:
    """Every field error of a step whose form refused a value, at once.

    A value the form cannot read (1.5 days, an amount of -5) stopped the step before the model looked
    at the other fields, so their errors (no reason, no approver, no terms) came one submit later.
    ``perform`` is dry-run on what the form could read (``step_field_errors``: nothing is written).
    Its field errors join the form's; a field the form refused keeps the form's message, since the
    model only saw it missing."""
    errors = {name: join_sentences(messages) for name, messages in form.errors.items()}
    if "action" in errors:  # no step to ask
        return errors
    for name, message in step_field_errors(perform).items():
        errors.setdefault(name, message)
    return errors


class StepResult(NamedTuple):
    """What a record page shows after one workflow step: the event when it was taken, else the
    banner text, the HTTP status the API would give (400 / 403 / 409) and the errors by field."""

    event: object | None
    error: str | None
    status: int
    field_errors: dict[str, str]


def run_step(
    form: forms.Form,
    perform: Callable[[], object],
    *,
    may_take: Callable[[], bool] | None = None,
    refusal: str = "",
) -> StepResult:
    """Validate a step form and take the step with ``perform`` (which reads ``form.cleaned_data``).
    When the form refused a value, the step is only dry-run for its other fields' errors
    (``step_form_errors``), so that all show at once and nothing is written; unless ``may_take``
    (``governance.rest.may_take_step``) says the user's role may not take it: then it is the 403 and
    ``refusal`` the complete form gets, not what to fix, as in the API (``step_input``)."""
    if not form.is_valid():
        if may_take is not None and not may_take():
            return StepResult(None, refusal, 403, {})
        field_errors = step_form_errors(form, perform)
        return StepResult(
            None,
            errors_text({name: [message] for name, message in field_errors.items()}, form),
            400,
            field_errors,
        )
    try:
        return StepResult(perform(), None, 200, {})
    except WorkflowError as exc:  # ActionInvalid's message names what is missing
        return StepResult(None, exc.message, exc.status_code, dict(getattr(exc, "errors", {})))
    except ValidationError as exc:
        fields = (
            {name: join_sentences(e) for name, e in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {}
        )
        return StepResult(None, errors_text(exc), 400, fields)


def first_and_total(qs: QuerySet, limit: int) -> tuple[list, int]:
    """The first ``limit`` rows of ``qs`` and how many it has in all, for a list that shows a few and
    links to the rest: the count is a second query only when the rows fill the limit."""
    rows = list(qs[:limit])
    return rows, len(rows) if len(rows) < limit else qs.count()


def filtered_rows(filterset, labels: Mapping[str, str] | None = None) -> tuple[QuerySet, str | None]:
    """A list page's rows through its API filterset, and on a bad filter no rows and one message
    naming the filter by its translated label, never the parameter (``received_from``). A code, id
    or username that names nothing the user may see (``governance.api.KnownRecordMixin``: an area,
    grid, department, organisation, mediator) is refused like any other bad value, and added to the
    form's errors so that a page listing them field by field shows it too.

    ``labels`` are the page form's own names for the filters it shows: the filterset's are the
    API's ("area code: its whole subtree"), which a page whose box reads "Area" shows nowhere. The
    area box takes a name too (``area_typed_by_name``)."""
    area_typed_by_name(filterset)
    form = filterset.form
    # Every list page's area box reads "Area" (the inbox passes no labels of its own).
    for name, label in ({"area": _("Area")} | dict(labels or {})).items():
        if name in form.fields:
            form.fields[name].label = label  # this request's form only (Django copies its fields)
    if filterset.is_valid():
        try:
            return filterset.qs, None
        except DRFValidationError as exc:
            form = filterset.form
            for field, msgs in exc.detail.items():
                form.add_error(field if field in form.fields else None, [str(m) for m in msgs])
    return filterset.queryset.none(), errors_text(filterset.errors, filterset.form)


# Most areas of one name that the refusal of an ambiguous name lists by code; it counts them all.
AREA_NAME_CHOICES = 10


def area_typed_by_name(filterset) -> None:
    """A list page's area box (templates/governance/_area_filter.html) holds a name typed instead of
    a code picked from its list ("桂花社区"): the page reads it as the area of that exact name among
    those the area filter accepts a code of (``KnownRecordMixin.may_see``), before the filterset runs.

    One area: the page goes on as if its code had been picked. ``filterset.data`` (the page's
    ``params``) now holds the code, so the box shows it beside its name in the list, the summary says
    "Area: 桂花社区" and the page links carry the code; the filter is handed the area (``settle``) and
    asks nothing more. Several: a 400 naming the field, listing their codes to type or pick. None,
    or only outside the user's scope: the unknown-code 400 a code gets, which tells the two apart no
    more than it does for codes. One query in every case (a count over the window gives how many
    share the name); none for a value written as a code (digits: ``governance.codes.is_code``), which
    the filter looks up as before. Only the pages do this: the API's ``area`` stays a code."""
    flt = filterset.filters.get("area")
    typed = str(filterset.data.get("area") or "").strip()
    if not isinstance(flt, AreaSubtreeFilter) or not typed or is_code(typed):
        return
    rows = list(
        flt.may_see(Area.objects.filter(name=typed))
        .annotate(total=Window(Count("pk")))
        .order_by("path")
        .values_list("code", "path", "name", "parent__name", "total")[:AREA_NAME_CHOICES]
    )
    if len(rows) == 1:
        code, path, name, _parent, _total = rows[0]
        if not getattr(filterset.data, "_mutable", True):  # a QueryDict as the request's: read-only
            filterset.data = filterset.data.copy()
            filterset.__dict__.pop("_form", None)  # a form built on the old data would not see it
        filterset.data["area"] = code
        flt.settle(code, path, name)
    elif rows:
        listed = [f"{code} ({parent} · {name})" if parent else code for code, _p, name, parent, _t in rows]
        if rows[0][4] > len(rows):
            listed.append(_("%(count)d more") % {"count": rows[0][4] - len(rows)})
        flt.settle(
            typed,
            refusal=_("%(name)s is the name of %(count)d areas: type or pick the code (%(codes)s).")
            % {
                "name": typed,
                "count": rows[0][4],
                "codes": pgettext("list separator", ", ").join(listed),
            },
        )
    else:
        flt.settle(typed)  # the filter's "Unknown area code …", with no lookup of its own


# Most areas a list's area filter offers by name; a wider scope (a whole city's communities) types
# the code, as the incident inbox does with grids past 1,000.
AREA_FILTER_CHOICES = 1000


def area_filter_choices(user) -> list[Area]:
    """The areas above grid level in ``user``'s scope, for the area-code filter of a list to offer by
    name (a datalist: the code is still what is sent, and typed codes still work). One query."""
    areas = list(
        Area.objects.visible_to(user)
        .exclude(level=Area.Level.GRID)
        .select_related("parent")
        .order_by("path")[: AREA_FILTER_CHOICES + 1]
    )
    return areas if len(areas) <= AREA_FILTER_CHOICES else []


def namesake_labels(areas: Iterable[Area]) -> dict[int, str]:
    """Each area's name, preceded by as many names of the areas above it as tell it from another
    area of the same name in ``areas`` ("甲一街道 · 春晖社区" beside "乙一街道 · 春晖社区"; a name nobody
    shares stays alone). A level whose name all the namesakes share is passed over: two grids
    "春晖第1网格" of two communities "春晖社区" are "甲一街道 · 春晖第1网格" and "乙一街道 · 春晖第1网格".
    Reads only the parents loaded with the areas (``select_related``): no query."""
    chains: dict[int, list[str]] = {}
    for area in areas:
        names, node = [area.name], area
        while Area.parent.is_cached(node) and node.parent is not None:
            node = node.parent
            names.append(node.name)
        chains[area.pk] = names
    shown: dict[int, list[str]] = {pk: [] for pk in chains}  # the names above, nearest first
    level = dict.fromkeys(chains, 1)  # the next level above each area to consider
    while True:
        labels = {pk: " · ".join([*reversed(shown[pk]), chains[pk][0]]) for pk in chains}
        bearers: dict[str, list[int]] = defaultdict(list)
        for pk, label in labels.items():
            bearers[label].append(pk)
        progressed = False
        for pks in (pks for pks in bearers.values() if len(pks) > 1):
            while live := [pk for pk in pks if level[pk] < len(chains[pk])]:
                above = {chains[pk][level[pk]] if level[pk] < len(chains[pk]) else None for pk in pks}
                for pk in live:
                    if len(above) > 1:
                        shown[pk].append(chains[pk][level[pk]])
                    level[pk] += 1
                if len(above) > 1:
                    progressed = True
                    break
        if not progressed:
            return labels


def namesakes_in_scope(user, names: Iterable[str]) -> dict[str, str]:
    """The areas of ``user``'s scope named one of ``names``, each code with its ``namesake_labels``
    label among them: a list's grid (or community) named so that one of the same name elsewhere in
    the user's scope is told apart, whichever rows the page shows. One query; none without names."""
    names = set(names)
    if not names:
        return {}
    areas = list(
        Area.objects.visible_to(user).filter(name__in=names).select_related("parent__parent__parent")
    )
    labels = namesake_labels(areas)
    return {area.code: labels[area.pk] for area in areas}


def labels_in_scope(user, *areas: Area | None) -> dict[str, str]:
    """Each of ``areas`` (None passed over) by code, named as the lists name it: with the names above
    it where an area of the same name elsewhere in ``user``'s scope would be taken for it
    (``namesakes_in_scope``), else its own name. A single record's page names its grid and area as
    the row that led to it did. One query, whatever the namesakes."""
    areas = [a for a in areas if a is not None]
    labels = namesakes_in_scope(user, {a.name for a in areas})
    return {a.code: labels.get(a.code, a.name) for a in areas}


def area_labels(user, *rows: Iterable, named: Iterable[str] = ()) -> dict[str, str]:
    """Sets ``area_label`` on each record of ``rows`` (lists of cases or petitions, their ``area``
    read with them): its area named as ``namesakes_in_scope`` names it, else by its own name, so a
    list's row, like the record's page, tells "甲一街道 · 春晖社区" from another 春晖社区 of the
    reader's scope. ``named``: more names to label (a filter summary's area). Returns the labels by
    code. One query for every list of a page, none without rows or names."""
    records = [record for group in rows for record in group]
    labels = namesakes_in_scope(user, {r.area.name for r in records} | set(named))
    for record in records:
        record.area_label = labels.get(record.area.code, record.area.name)
    return labels


@never_cache
@require_safe  # GET and HEAD: uptime monitors often probe with HEAD, which a 405 reported as down
def healthz(request: HttpRequest) -> JsonResponse:
    """The status code answers a load balancer: 503 only when the database does not answer, as no
    page works then. A broker outage is 200 with ``"status": "degraded"`` and ``broker.ok`` false:
    records are still saved and their notices wait in the outbox (DESIGN.md section 3), and a 503
    took every web server out of service for it. Alert on ``broker.ok`` (or the worker's ping)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        db_ok, db_detail = True, "ok"
    except Exception as exc:  # any database failure is a 503, not a traceback
        db_ok, db_detail = False, type(exc).__name__
    broker_ok, broker_detail = _broker_status()
    if not broker_ok:
        _warn_broker_down(broker_detail)
    status = "unavailable" if not db_ok else "ok" if broker_ok else "degraded"
    return JsonResponse(
        {
            "status": status,
            "database": {"ok": db_ok, "detail": db_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
        },
        status=200 if db_ok else 503,
    )


def map_area_codes(user) -> str:
    """The areas a map of the user's own area draws (its ``data-areas``): those of their memberships.
    A superuser sees every area without a role at one (the first account of a deployment, made with
    createsuperuser): their map shows the top of the tree, not nothing (an empty list) and not a code
    that is none (the report page's "-", which the areas API refused with a 400)."""
    codes = {m.area.code for m in user.memberships_cached()}
    if not codes and user.is_superuser:
        codes = set(Area.objects.filter(parent=None).values_list("code", flat=True))
    return ",".join(sorted(codes))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships_cached()
    return render(
        request,
        "governance/home.html",
        {
            "memberships": memberships,
            "sections": home_sections(request),
            "area_codes": map_area_codes(request.user),
            # Said where it is seen: the warning was only on the calendar's admin list, which nobody
            # opens until they know the year is missing.
            "calendar_missing": Holiday.missing_next_year(timezone.localdate())
            if request.user.is_staff and request.user.has_perm("governance.change_holiday")
            else None,
        },
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's notices, newest first, 50 a page: the newest 200 were shown, and older unread ones
    (a busy centre passes 200 overdue notices in a day) were counted in the badge but could not be
    reached. "Mark all as read" marks those that existed when the page was shown (``up_to``, the
    newest id then), not one that arrived after and was never seen."""
    items = request.user.notifications.all()
    error = None
    if request.method == "POST":
        if "up_to" in request.POST:  # the page's form; without it (a script), every unread notice
            up_to = record_id(request.POST["up_to"])
            if up_to is None:
                # Not the form as the page wrote it: nothing is marked, and the page says so (a
                # redirect as if done left the reader believing every notice was read).
                error = _("The notices could not be marked as read: reload the page and try again.")
            else:
                notifications_mark_read(actor=request.user, up_to=up_to)
        else:
            notifications_mark_read(actor=request.user)
        if error is None:
            return redirect("governance-notifications")
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    newest = items.order_by("-pk").values_list("pk", flat=True).first()
    return render(
        request,
        "governance/notifications.html",
        {"items": page, "page": page, "up_to": newest, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow one notification to what it is about; a POST (the list's button) also marks it read.
    Only "mark all as read" existed, so a reader who dealt with one notice among many kept it unread,
    or lost track of the others. A GET marked it read too: a link prefetcher, a preview or the back
    button re-fetching the address read a notice nobody had seen; a GET now only leads to the record.
    Another user's notification is the same 404 as a missing one; a link that is not a path on this
    site (none is written so, but it is stored text) leads back to the list, never off the site."""
    notice = get_object_or_404(request.user.notifications, pk=pk)
    if request.method == "POST":
        notification_mark_read(notification=notice, actor=request.user)
    if notice.link and url_has_allowed_host_and_scheme(
        notice.link, allowed_hosts=set(), require_https=request.is_secure()
    ):
        return redirect(notice.link)
    return redirect("governance-notifications")


class LoginView(auth_views.LoginView):
    """The login page. A refused login (wrong password, a username over the limit) is a 400 with the
    form again, not a 200 that reads as success to a script or a monitor; the lockout stays django-axes'
    429 (``registration/locked_out.html``)."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class LogoutView(auth_views.LogoutView):
    """Logging out is a POST (the menu's button), as Django requires since 5.0: a GET could be forced
    on a user by any page. A GET of the address (a bookmark, the address typed) answered a bare 405,
    which the browser showed as a broken page; it asks instead, with the same button. Signed out
    already, it goes to the login page."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(settings.LOGIN_URL)
        return render(request, "registration/logout_confirm.html")

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Said on the login page it lands on: on a shared computer the next person sees that the
        # last one signed out. (The session is gone; the message waits in the cookie storage.)
        signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if signed_in:
            messages.info(request, _("You have logged out."))
        return response


# --- the user's own account: API token and password -------------------------------------------------


def _account_page(
    request: HttpRequest, *, new_token: str | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    from rest_framework.authtoken.models import Token

    token = Token.objects.filter(user=request.user).first()
    context = {"token": token, "new_token": new_token, "error": error}
    return render(request, "governance/account.html", context, status=status)


@login_required
@require_safe
def account(request: HttpRequest) -> HttpResponse:
    """The signed-in user's account: their API token (when it was issued, never the key) and the
    ways to replace it, revoke it and change the password."""
    return _account_page(request)


@login_required
@require_POST
def account_token(request: HttpRequest) -> HttpResponse:
    """A new API token for the signed-in user, shown on this answer only (no-store: the user is
    signed in, NoStoreMiddleware); the previous one stops working. A user whose script's key leaked
    replaces it here, without an administrator and without typing the password into the script.

    The password is asked for, as at the token endpoint: a token outlives the session, so a browser
    left signed in would otherwise hand out a key that works for months. It goes through
    ``authenticate``, so a wrong one counts towards the lockout (django-axes answers a locked one)."""
    if not own_password_confirmed(request, request.POST.get("password", "")):
        return _account_page(request, error=_("Wrong password: no token was issued."), status=400)
    return _account_page(request, new_token=user_token_issue(user=request.user, via="account page"))


@login_required
@require_POST
def account_token_revoke(request: HttpRequest) -> HttpResponse:
    if user_tokens_revoke(user=request.user, via="account page"):
        messages.success(request, _("Your API token was revoked: a client using it must get a new one."))
    else:
        messages.info(request, _("You have no API token."))
    return redirect("governance-account")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's own (the old password, then the new one twice, checked by AUTH_PASSWORD_VALIDATORS;
    the session survives), audited. Setting the password also revokes the user's API token
    (User.save). A refused change is a 400 with the form again, as a refused login is."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("governance-account")
    form_class = OwnPasswordChangeForm

    def get_form_kwargs(self):
        # The old password goes through authenticate (the lockout), which needs the request.
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        form.user.must_change_password = False  # saved with the new password
        response = super().form_valid(form)
        audit(actor=self.request.user, action="password.change", obj=self.request.user)
        messages.success(self.request, _("Your password was changed."))
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response
