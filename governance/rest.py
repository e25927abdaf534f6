"""DRF plumbing shared by every app: pagination and the error format.

Kept apart from the views so that DRF can import these classes from settings without a cycle.
Errors are JSON with a human-readable ``detail``; validation errors also carry ``errors`` keyed by
field, and ``detail`` names the fields. Workflow errors map to 400 / 403 / 409.
``service_checked_errors`` lets an endpoint whose input serializer refused something also report
what the service's checks find in the rest, in the same 400.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models.manager import BaseManager
from django.http import Http404
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.authentication import (
    CSRFCheck,
    SessionAuthentication,
    TokenAuthentication,
    get_authorization_header,
)
from rest_framework.fields import SkipField
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from governance.access import NOT_FOUND
from governance.pagination import BoundedCountPaginator, DeferredJoinPaginator
from governance.periods import pinned_calendar
from governance.services import RevealLimitReached
from governance.workflow import ActionInvalid, WorkflowError, step_field_errors

logger = logging.getLogger(__name__)


class TooManyTokenFailures(exceptions.APIException):
    """429: this address failed token authentication ``TOKEN_AUTH_FAILURE_LIMIT`` times within the
    window. ``wait`` becomes the Retry-After header (DRF's exception handler sets it)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_token_failures"

    def __init__(self, wait: int) -> None:
        self.wait = wait
        super().__init__(
            ngettext(
                "Too many failed token authentications from your address: try again in %(seconds)d second.",
                "Too many failed token authentications from your address: try again in %(seconds)d seconds.",
                wait,
            )
            % {"seconds": wait}
        )


class TooManyReveals(exceptions.APIException):
    """429: the caller reached their reveal limit (``governance.services.RevealLimitReached``);
    ``wait`` becomes the Retry-After header."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_reveals"

    def __init__(self, refused: Exception, wait: int) -> None:
        self.wait = wait
        super().__init__(str(refused))


def _failure_keys(address: str) -> tuple[str, str]:
    """The prefix of ``address``'s counters (one per window, ``_count_key``) and its window's start."""
    return f"token-auth-failures:{address}", f"token-auth-failures-since:{address}"


def _count_key(address: str, since: float) -> str:
    # A counter per window, named by the window's start: a new window never shares, resets or
    # deletes the counter of the one before, so no failure counted meanwhile is lost with it.
    return f"{_failure_keys(address)[0]}:{since:.6f}"


def _count_expiry(window: int) -> int:
    # The counter outlives its window's start by a minute: a failure that read the start just
    # before it expired still finds the counter there to increment. (Django's RedisCache.incr checks
    # that the key EXISTS, then INCRs it: a counter expiring between the two would be created again
    # by INCR with no expiry. Such a counter, of a window that has passed, is never read again.)
    return window + 60


def token_failures_count(address: str) -> int:
    """Failed token authentications from ``address`` in its current window."""
    since = cache.get(_failure_keys(address)[1])
    return 0 if since is None else cache.get(_count_key(address, since), 0)


def token_failures_reset(address: str) -> None:
    """Forget the failures of ``address`` (its window starts again with the next failure)."""
    since_key = _failure_keys(address)[1]
    since = cache.get(since_key)
    cache.delete_many([since_key] if since is None else [since_key, _count_key(address, since)])


def _token_failures_wait(address: str) -> int:
    """Seconds ``address`` is still refused, 0 while it is under the limit. The window starts at
    its first failure and lasts TOKEN_AUTH_FAILURE_WINDOW: it is the "since" key, which only
    ``cache.add`` writes, so it always expires with the window. An address without failures costs
    one read; one with a window open, two."""
    since = cache.get(_failure_keys(address)[1])
    if since is None or cache.get(_count_key(address, since), 0) < settings.TOKEN_AUTH_FAILURE_LIMIT:
        return 0
    window = settings.TOKEN_AUTH_FAILURE_WINDOW.total_seconds()
    return max(1, math.ceil(since + window - time.time()))


def _count_from_one(count_key: str, expiry: int) -> int:
    """Create the window's counter at 1 with its expiry, or, if another failure created it first,
    count this one with it. Atomic in Redis, so the web's workers and containers count together."""
    if cache.add(count_key, 1, expiry):
        return 1
    try:
        return cache.incr(count_key)
    except ValueError:  # created and gone again already (a window of a second): count anew
        cache.add(count_key, 1, expiry)
        return 1


def _token_failure_recorded(address: str) -> None:
    window = int(settings.TOKEN_AUTH_FAILURE_WINDOW.total_seconds())
    since_key = _failure_keys(address)[1]
    for _attempt in range(3):
        # The first failure of a window stores its start; every other one reads the start that was
        # stored, and counts on that window's counter. Two failures arriving together count on
        # the same counter whichever stores the start, and in whichever order they reach it.
        since = time.time()
        if cache.add(since_key, since, window):
            break
        since = cache.get(since_key)
        if since is not None:
            break
        # The window ended between the ``add`` and the ``get``: this failure opens the next one.
    else:  # the start stored and gone three times over: a cache that keeps nothing
        return
    count = _count_from_one(_count_key(address, since), _count_expiry(window))
    if count == settings.TOKEN_AUTH_FAILURE_LIMIT:
        logger.warning(
            "%d failed token authentications from %s: its token requests are refused (429) for %d s",
            count,
            address,
            window,
        )


def _cache_guarded(step: Callable[[str], Any], address: str, default: Any = None) -> Any:
    """The limit needs the cache (Redis in the full stack). With the cache down, token
    authentication goes on without the limit rather than every token request failing."""
    try:
        return step(address)
    except Exception:  # the cache backend's own errors (redis.ConnectionError, OSError)
        logger.warning(
            "Failed token authentications are not limited: the cache is unavailable", exc_info=True
        )
        return default


class HashedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, looked up by the key's digest (``services.token_digest``): the
    database keeps no key a client could send. Errors and the 401 challenge are DRF's.

    Failures are limited per client address (``services.client_ip``: behind the proxy, the address
    it appended): after ``TOKEN_AUTH_FAILURE_LIMIT`` within ``TOKEN_AUTH_FAILURE_WINDOW`` every token
    request from that address is a 429 until the window ends, the right key too (a guesser would
    otherwise tell the right guess by its 200). Successes neither count nor reset the failures;
    requests without a token header (sessions, the token endpoint) are not concerned."""

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        from governance.services import client_ip

        address = client_ip(request) or "unknown"
        wait = _cache_guarded(_token_failures_wait, address, default=0)
        if wait:
            raise TooManyTokenFailures(wait)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            _cache_guarded(_token_failure_recorded, address)
            raise

    def authenticate_credentials(self, key):
        from governance.services import token_digest

        return super().authenticate_credentials(token_digest(key))


csrf_logger = logging.getLogger("django.security.csrf")


class CsrfSessionAuthentication(SessionAuthentication):
    """DRF's session authentication, its CSRF refusal worded for the reader: DRF answers "CSRF
    Failed: <reason>" in English whatever the language, naming a mechanism nobody at the page can
    act on. The 403 stays; the reason goes to the log, as Django's own CSRF refusals do (same
    logger, same wording), and the client is told what happened and what to do."""

    def enforce_csrf(self, request) -> None:
        check = CSRFCheck(lambda request: None)
        # Fills request.META["CSRF_COOKIE"], which process_view reads (as DRF does).
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            csrf_logger.warning(
                "Forbidden (%s): %s",
                reason,
                request.path,
                extra={"status_code": 403, "request": request._request},
            )
            raise exceptions.PermissionDenied(
                _(
                    "The request was not accepted: the page was open for a long time, or you signed in or "
                    "out since it was opened, and nothing was saved. Reload the page and send it again."
                ),
                code="csrf_failed",
            )


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        # DRF falls back to the default size for a ``page_size`` it cannot read ("abc", "0", "all"):
        # 50 rows the client did not ask for. It is a 400 naming ``page_size``; over 500 gives 500.
        # The size is the number the check read ("2.0" is 2): DRF's own reading takes digits only.
        raw = request.query_params.get(self.page_size_query_param, "")
        if not raw:
            return self.page_size
        try:
            size = serializers.IntegerField(min_value=1).run_validation(raw)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.page_size_query_param: exc.detail}) from None
        return min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        # DRF answers a page that is not a number, or past the end, with a 404 "Invalid page.": the
        # status of a missing record, and no word of which parameter. It is a bad parameter: a 400
        # naming ``page`` and the pages there are.
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound:
            # The paginator that refused the page: its count read already, and, when it bounds its
            # count, exact (the message says how many pages there are).
            paginator = self.refusing_paginator
            count_exactly = getattr(paginator, "count_exactly", None)
            if count_exactly is not None:
                count_exactly()
            last = paginator.num_pages
            page = request.query_params.get(self.page_query_param)
            raise exceptions.ValidationError(
                {
                    self.page_query_param: [
                        _("There is no page %(page)s: pages run from 1 to %(last)d.")
                        % {"page": page, "last": last}
                    ]
                }
            ) from None

    def get_page_number(self, request, paginator):
        self.refusing_paginator = paginator
        if request.query_params.get(self.page_query_param) in self.last_page_strings:
            count_exactly = getattr(paginator, "count_exactly", None)
            if count_exactly is not None:  # the last page of a bounded count is where the rows end
                count_exactly()
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        # What /api/schema/ says of the two (DRF's words, "Number of results to return per page.",
        # gave neither the bounds nor what is refused; docs/api.md "Lists").
        described = {
            self.page_query_param: _(
                "page number from 1; one that is not a number, or past the last page, is a 400 keyed "
                "page that says how many pages there are (`last` is the last page)"
            ),
            self.page_size_query_param: _(
                "rows per page, default %(default)d: a whole number from 1 (anything else is a "
                "400 keyed page_size); over %(max)d gives %(max)d"
            )
            % {"default": self.page_size, "max": self.max_page_size},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in described:
                parameter["description"] = described[parameter["name"]]
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters


class DeferredJoinPagination(Pagination):
    """For the incident and dispute lists: every page, the first too, reads its keys first, not
    every row it skips or its filter selects (governance/pagination.py); the same count, links and
    rows. Not the petitions': their scope is an OR of area, department and complained unit, which
    the keys' subquery evaluates again, and it measured no faster there (docs/benchmarks.md "Deep
    pages")."""

    django_paginator_class = DeferredJoinPaginator


class BoundedCountPagination(Pagination):
    """For ``stats/values/``, whose unfiltered list matches millions of rows: ``count`` is exact up
    to ``BoundedCountPaginator.limit`` rows and an estimate beyond, which ``count_exact`` says (a
    field added to the page, nothing renamed); the pages and their links are exact either way
    (governance/pagination.py, docs/api.md "Lists")."""

    django_paginator_class = BoundedCountPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_exact"] = self.page.paginator.exact
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paged = super().get_paginated_response_schema(schema)
        limit = BoundedCountPaginator.limit
        paged["properties"]["count"]["description"] = _(
            "the number of rows when count_exact is true (up to %(limit)d rows, or on the last page "
            "asked for as page=last); beyond, an estimate (PostgreSQL's planner's), never below the "
            "rows up to the end of this page: follow next, which is exact, to read them all"
        ) % {"limit": limit}
        paged["properties"]["count_exact"] = {
            "type": "boolean",
            "description": _(
                "whether count is the number of rows (true) or an estimate past %(limit)d rows "
                "(false; X-Total-Count is then not sent)"
            )
            % {"limit": limit},
        }
        paged["required"] = [*paged.get("required", []), "count_exact"]
        return paged


class ContentNegotiation(DefaultContentNegotiation):
    """DRF answers a ``?format=`` that the endpoint does not serve with a bare 404, which our handler
    words "No such record, or it is outside your area": wrong for a typo in a parameter. It is a 400
    naming ``format`` and the formats the endpoint has (the error itself is rendered as JSON)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            wanted = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
            raise exceptions.ValidationError(
                {
                    "format": [
                        _("No format %(format)r here; use one of: %(formats)s.")
                        % {"format": wanted, "formats": ", ".join(dict.fromkeys(r.format for r in renderers))}
                    ]
                }
            ) from None


def refuse_unknown_params(request, known: list[str]) -> None:
    """A 400 naming each query parameter not in ``known`` (``KnownParamsMixin``)."""
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        message = _("Unknown parameter; the parameters are: %(known)s.") % {"known": ", ".join(known)}
        raise exceptions.ValidationError({name: [message] for name in unknown})


class KnownParamsMixin:
    """A query parameter the endpoint does not read is a 400 naming it. A misspelt filter
    (``perod=2026-10``, ``stauts=closed``) was dropped without a word and the answer was the
    unfiltered list: every period, or every incident, read as the ones asked for. ``params`` are the
    endpoint's own (a list's: its filterset's ``base_filters``), ``COMMON_PARAMS`` those of every
    list (an endpoint that is not paginated keeps ``format`` only)."""

    params: tuple[str, ...] = ()
    COMMON_PARAMS = ("page", "page_size", "format")

    def check_params(self, request) -> None:
        refuse_unknown_params(request, [*self.params, *self.COMMON_PARAMS])

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticated and allowed first: 401 / 403
        if request.method in ("GET", "HEAD"):
            self.check_params(request)
        elif request.method != "OPTIONS":
            # A write reads its body only: ``POST stats/rollups/?full=true`` queued an incremental
            # run, the parameter dropped without a word.
            stray = [name for name in request.query_params if name != "format"]
            if stray:
                message = _("A write takes its fields in the body, not in the address.")
                raise exceptions.ValidationError({name: [message] for name in stray})


def _keyed(detail, prefix: str = "", out: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """DRF's error tree as one flat mapping ``field -> [messages]``, nested fields named the way
    the services name them (``parties[1].role``), so a bad party gets the same key whether the input
    serializer or the service caught it. A list's item errors come keyed by index (``{"1": ...}``,
    or a list with ``{}`` for the good items); ``non_field_errors`` belong to the enclosing field."""
    out = {} if out is None else out
    if isinstance(detail, dict):
        for key, value in detail.items():
            key = str(key)
            if key == "non_field_errors":
                name = prefix
            elif key.isdigit() and prefix:  # an item of a list field; at the top, a field named "1"
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else key
            _keyed(value, name, out)
    elif isinstance(detail, list):
        for i, value in enumerate(detail):
            if isinstance(value, dict | list):
                _keyed(value, f"{prefix}[{i}]", out)
            else:
                out.setdefault(prefix or "non_field_errors", []).append(str(value))
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def _sentence(errors: dict[str, list[str]]) -> str:
    return "; ".join(
        message if key == "non_field_errors" else f"{key}: {message}"
        for key, messages in errors.items()
        for message in messages
    )


def invalid_input(errors: dict[str, list[str]]) -> str:
    """The ``detail`` of a validation error: "Invalid input: " and each field's messages (docs/api.md
    "Errors"), for the exception handler and the middleware that refuses a request before DRF."""
    return _("Invalid input: %(problems)s") % {"problems": _sentence(errors)}


_JSON_PARSE_ERROR = "JSON parse error - "  # rest_framework.parsers.JSONParser's untranslated prefix


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def size_text(n: int) -> str:
    """1048576 -> "1 MB": a size limit as the 413 (and the schema) write it."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size:
            return f"{round(n / size, 1):g} {unit}"
    return f"{n} B"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with two limits.

    It caught only ``ValueError``: a body nested a hundred thousand levels deep (``[[[[...``) raised
    ``RecursionError`` in ``json.load`` and answered 500, with an HTML page, to anyone (the token
    endpoint is open). Here it is the 400 of any body that is not JSON.

    It parsed any body up to the request limit (80 MB, for photos): 80 MB of ``[{},{},...]`` sent
    to the open token endpoint is 27 million dicts, about 2 GB of memory. A body longer than the
    setting ``max_bytes_setting`` names is a 413 saying the limit, by its Content-Length and by the
    bytes read (a chunked body has no length), before anything is parsed."""

    max_bytes_setting = "API_JSON_MAX_BYTES"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = getattr(settings, self.max_bytes_setting)
        request = (parser_context or {}).get("request")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            length = 0
        body = b"" if length > limit else stream.read(limit + 1)
        if length > limit or len(body) > limit:
            raise BodyTooLarge(
                _("The JSON request body is larger than %(size)s, the most this endpoint accepts.")
                % {"size": size_text(limit)}
            )
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(f"{_JSON_PARSE_ERROR}nested too deeply") from None


class ImportJSONParser(JSONParser):
    """The bulk imports' rows: ``IMPORT_JSON_MAX_BYTES``, sized for ``INTAKE_MAX_ROWS`` rows."""

    max_bytes_setting = "IMPORT_JSON_MAX_BYTES"


def exception_handler(exc, context):
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, ActionInvalid):
        exc = exceptions.ValidationError({name: [message] for name, message in exc.errors.items()})
    elif isinstance(exc, WorkflowError):
        return Response({"detail": exc.message}, status=exc.status_code)
    elif isinstance(exc, RevealLimitReached):
        exc = TooManyReveals(exc, exc.wait)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, exceptions.ParseError) and str(exc.detail).startswith(_JSON_PARSE_ERROR):
        # DRF words a body that is not JSON in English whatever the language ("JSON parse error -
        # Expecting value: ..."); the position that follows is Python's and kept as it is.
        exc = exceptions.ParseError(
            _("The request body is not valid JSON: %(error)s")
            % {"error": str(exc.detail).removeprefix(_JSON_PARSE_ERROR)}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _keyed(response.data)
        response.data = {"detail": invalid_input(errors), "errors": errors}
    elif isinstance(exc, Http404):
        response.data = {"detail": str(NOT_FOUND)}
    return response


# The field every workflow record's detail carries (incidents, disputes, petitions).
ACTIONS_HELP = gettext_lazy("The actions the requesting user may take now.")


# Said of a step's ``state`` input after what a bare status does.
STATE_RICHER_HELP = gettext_lazy(
    "Send the record's step_state instead (status@latest event id) and a step someone else took "
    "since, even one that left the status as it was, makes yours a 409."
)


def step_state_field() -> serializers.CharField:
    """What a client sends back as a step's ``state`` (the model's ``form_step_state``)."""
    return serializers.CharField(
        source="form_step_state",
        read_only=True,
        help_text=gettext_lazy(
            "The value to send as `state` with a step: the status as it is now and, after @, the id of "
            "the latest event. A step someone else took since, even one that left the status as it "
            "was, then makes yours a 409."
        ),
    )


def provisional_due_years_field() -> serializers.ListField:
    """The years of a record's running due dates the calendar has no dates for (the model's
    ``provisional_due_years``; the pages' note "The calendar has no dates for 2027 yet"). A list of
    such records reads the calendar once: give its serializer ``CalendarListSerializer``."""
    return serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text=gettext_lazy(
            "The years of this record's running due dates that the working-day calendar has no dates "
            "for yet ([] normally): those deadlines count plain weekdays (Monday to Friday worked, no "
            "holidays) and may move when that year's holidays are entered."
        ),
    )


class CalendarListSerializer(serializers.ListSerializer):
    """A list whose rows name the years their running due dates lie in without a calendar: the
    calendar is read once for the page (pinned), not once per row; not at all when no row has a
    running due date."""

    def to_representation(self, data) -> list:
        rows = list(data.all() if isinstance(data, BaseManager) else data)
        if not any(row.running_due_dates() for row in rows):
            return super().to_representation(rows)
        with pinned_calendar():
            return super().to_representation(rows)


# An input serializer that refuses a field it does not read, keyed by that field, beside every
# other error of the input: a misspelt optional field (a petitioner's ``phnoe``, a case's ``amout``,
# a step's ``notes``) was dropped without a word and the record saved without it. Rows of a list
# (``parties``, ``petitioners``) made of these are checked the same way and keyed
# ``parties[1].phnoe``. Input that is not an object is left to DRF's own refusal. (A comment, not a
# docstring: drf-spectacular would put a docstring into every input component of /api/schema/.)
class KnownFieldsSerializer(serializers.Serializer):
    def run_validation(self, data=serializers.empty):
        unknown: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            writable = [name for name, field in self.fields.items() if not field.read_only]
            known = ", ".join(writable)
            for name in data:
                if name not in writable:
                    unknown[str(name)] = [_("Unknown field; the fields are: %(known)s.") % {"known": known}]
        try:
            value = super().run_validation(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, Mapping):
                raise serializers.ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


def submission_field(record: str) -> serializers.UUIDField:
    """The optional key of a request that creates a record (``governance.services.submitted_before``):
    the same request sent again answers with the record the first one saved instead of a second."""
    return serializers.UUIDField(required=False, help_text=_SUBMISSION_HELP[record])


# Whole sentences per record, each translated as one (a noun put into a sentence would not read in Chinese).
_SUBMISSION_HELP = {
    "report": gettext_lazy(
        "a key of the client's choosing (a UUID): a report sent again with the key of one already saved "
        "answers with that report instead of saving a second"
    ),
    "registration": gettext_lazy(
        "a key of the client's choosing (a UUID): a registration sent again with the key of one already "
        "saved answers with that registration instead of saving a second"
    ),
    "session": gettext_lazy(
        "a key of the client's choosing (a UUID): a session sent again with the key of one already saved "
        "answers with that session instead of saving a second"
    ),
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the record's current state.")


def readable_input(serializer: serializers.Serializer, data: Mapping) -> dict[str, Any]:
    """What ``serializer`` can read of ``data``, field by field: every field that validates on its own,
    and of a refused list of rows, what each row can read (a row that is not an object is ``{}``, so
    the rows keep their numbers). A refused field, or one absent without a default, is left out."""
    out: dict[str, Any] = {}
    for field in serializer.fields.values():
        if field.read_only:
            continue
        primitive = field.get_value(data)
        try:
            serializer.set_value(out, field.source_attrs, field.run_validation(primitive))
        except SkipField:
            pass
        except serializers.ValidationError:
            if isinstance(field, serializers.ListSerializer) and isinstance(primitive, list):
                rows = [
                    readable_input(field.child, row) if isinstance(row, Mapping) else {} for row in primitive
                ]
                serializer.set_value(out, field.source_attrs, rows)
    return out


def service_checked_errors(
    serializer: serializers.Serializer, check: Callable[[dict[str, Any]], None]
) -> dict[str, list[str]]:
    """The refused input's errors (keyed as the exception handler keys them) and those the service's
    ``check`` finds in what the serializer could read: one 400 with every error, not a second round
    once the first is fixed. Where the serializer flagged a field, its message stands: the service
    saw the field as missing (or, for a list, some rows as missing), so its word on that field, on
    what contains it or on what it contains, is not news."""
    errors = _keyed(serializer.errors)
    if not isinstance(serializer.initial_data, Mapping):  # not an object: nothing to check
        return errors
    flagged = list(errors)

    def covered(key: str) -> bool:
        return any(
            key == f or key.startswith((f"{f}.", f"{f}[")) or f.startswith((f"{key}.", f"{key}["))
            for f in flagged
        )

    try:
        check(readable_input(serializer, serializer.initial_data))
    except DjangoValidationError as exc:
        for key, messages in exc.message_dict.items():
            if not covered(key):
                errors[key] = messages
    return errors


def step_input(
    serializer: serializers.Serializer,
    *,
    user: Any,
    record: Any,
    workflow: Any,
    may_perform: Callable[[Any, Any, Any], bool],
    refusal: str,
    action: str | None = None,
    dry_run: Callable[[dict[str, Any]], object] | None = None,
) -> dict[str, Any]:
    """A workflow step's input, validated, for an endpoint that has already found ``record`` within
    the user's scope (404 otherwise). Faulty input from a user whose role may not take the step
    (``action``, else the one the body names; none known: any step of the record) is refused with
    403 and ``refusal``, as the same input well-formed would be: a 400 told them what to fix, as if
    the step would then be taken. Valid input goes on to the transition, which checks everything
    (a step sent twice is answered there as done).

    ``dry_run`` takes the step on what the input could read (``readable_input``): its field errors
    (``workflow.step_field_errors``, nothing written) join the input's in the one 400, as a page's
    do (``views.step_form_errors``), so a refused value does not hide a missing reason."""
    if serializer.is_valid():
        return dict(serializer.validated_data)
    if action is None and isinstance(serializer.initial_data, Mapping):
        action = serializer.initial_data.get("action")
    if not may_take_step(user, record, workflow=workflow, may_perform=may_perform, action=action):
        raise exceptions.PermissionDenied(refusal)
    if dry_run is None:
        raise exceptions.ValidationError(serializer.errors)

    def check(read: dict[str, Any]) -> None:
        if "action" not in read:  # no step to ask
            return
        found = step_field_errors(lambda: dry_run(read))
        if found:
            raise DjangoValidationError({name: [message] for name, message in found.items()})

    raise exceptions.ValidationError(service_checked_errors(serializer, check))


def may_take_step(
    user: Any, record: Any, *, workflow: Any, may_perform: Callable[[Any, Any, Any], bool], action: Any
) -> bool:
    """May ``user``'s role take the step ``action`` names on ``record`` (no step of that name: any
    step of the record), whatever its fields hold? Faulty input from a user who may not is refused as
    the well-formed step would be (403), here and on the pages (``governance.views.run_step``)."""
    named = workflow.transitions.get(action) if isinstance(action, str) else None
    steps = [named] if named is not None else list(workflow.transitions.values())
    return any(may_perform(user, record, step) for step in steps)


# --- conditional GET ------------------------------------------------------------------------------


def entity_tag(*parts: object) -> str:
    """A strong ETag naming ``parts`` (what the answer depends on, the caller's scope among them)."""
    return '"' + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32] + '"'


def none_match(header: str, etag: str, *, strict: bool = False) -> bool:
    """Does an If-None-Match header name ``etag``? By weak comparison, as RFC 9110 (13.1.2) says: a
    proxy that compresses the answer (nginx with gzip) sends our "x" on as W/"x", and the client
    then asks with W/"x", which must still get its 304. "*" names any current representation, so
    it matches unless ``strict`` (only a tag counts)."""
    tags = [t.strip() for t in header.split(",")]
    return ("*" in tags and not strict) or any(t.removeprefix("W/") == etag for t in tags)


def conditional_read(request, etag: str, modified: float | None, read: Callable[[], Response]) -> Response:
    """``read()``'s answer with ``etag`` and Last-Modified ``modified`` (a timestamp, or None), or a
    304 with no body when the client has it already (the statistics, the assessments, the caller's
    notices). The tag must name everything the answer depends on (the URL with its parameters, the
    Accept header, the language, the caller), so that it was given with a 200 for exactly this
    request: matched, ``read`` is skipped. "*" and If-Modified-Since name no answer of this URL: they
    count only when the read succeeds (RFC 9110 13.2.1), never turning a 400 or a 404 into a 304."""
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match and none_match(if_none_match, etag, strict=True):
        response = Response(status=status.HTTP_304_NOT_MODIFIED)
    else:
        response = read()
        since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
        unchanged = (
            none_match(if_none_match, etag)
            if if_none_match
            else bool(since and modified and int(modified) <= since)
        )
        if response.status_code == 200 and unchanged:
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
    if response.status_code in (200, 304):
        response["ETag"] = etag
        if modified:
            response["Last-Modified"] = http_date(modified)
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Accept, Authorization, Cookie, Accept-Language"
    return response
