"""OpenAPI schema generation (drf-spectacular), kept apart from governance.rest because importing
drf_spectacular.openapi pulls in rest_framework.generics, which reads the pagination class from
settings: in one module they would import each other."""

from __future__ import annotations

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class CsrfSessionScheme(SessionScheme):
    """The session scheme (``cookieAuth``) for governance.rest.CsrfSessionAuthentication: the
    extension drf-spectacular ships matches DRF's class only, not its subclasses."""

    target_class = "governance.rest.CsrfSessionAuthentication"


class AutoSchema(SpectacularAutoSchema):
    """Names serializer components after where they are declared.

    Views keep small nested ``InputSerializer`` / ``OutputSerializer`` classes (STYLE.md); by plain
    class name they would all collide in the OpenAPI components. ``IncidentTransitionApi.InputSerializer``
    becomes ``IncidentTransitionApiInput``."""

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." in qualname and "<locals>" not in qualname:
            outer, inner = qualname.rsplit(".", 1)
            return outer.replace(".", "") + inner.removesuffix("Serializer")
        return name

    def _get_format_parameters(self):
        # drf-spectacular lists ``?format=`` (json, csv) on the reads answered in CSV too, with its
        # values and no words: a client saw "csv" and no hint that it is the Accept header's twin.
        parameters = super()._get_format_parameters()
        for parameter in parameters:
            parameter["description"] = FORMAT_PARAMETER
        return parameters

    def _map_basic_serializer(self, serializer, direction):
        # An input that refuses a field it does not read says so: a client generated from the schema
        # (or schemathesis) sends no field beyond those listed (docs/api.md "Errors").
        from governance.rest import KnownFieldsSerializer  # not at import: settings load this module

        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, KnownFieldsSerializer):
            schema["additionalProperties"] = False
        return schema


FORMAT_PARAMETER = gettext_lazy(
    "The answer's format: `json` (the default) or `csv`, which `Accept: text/csv` asks for too; any "
    "other value is a 400 keyed `format` listing those the endpoint serves."
)
ERROR_COMPONENT = {
    "type": "object",
    "description": gettext_lazy(
        "Every error: a human-readable detail; validation errors also name the fields."
    ),
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["detail"],
}
_ERRORS = {
    "400": gettext_lazy("Invalid input: `errors` names each field and what is wrong with it."),
    "401": gettext_lazy("Not authenticated (send `Authorization: Token ...` or a session cookie)."),
    "403": (
        gettext_lazy(
            "Authenticated, but this role may not do this (or signed in by the session with a temporary "
            "password not yet changed)."
        )
    ),
    "404": gettext_lazy("No such record, or it is outside your area (the two are indistinguishable)."),
    "406": (
        gettext_lazy(
            "The Accept header asks only for types this endpoint does not give (JSON; CSV too for the "
            "statistics and assessment reads)."
        )
    ),
    "429": (
        gettext_lazy(
            "Too many failed token authentications from this address: every token request from it is "
            "refused for a while (`Retry-After`: the seconds to wait)."
        )
    ),
}

# The POSTs that can answer 409: a workflow step not allowed from the record's state (a transition, a
# mediation session, which moves an accepted case into mediation) and a rollup run asked for while
# one runs. Registering a record (but a dispute sent again after its case was transferred away, which
# documents its own), revealing personal data and the case-count imports never do: the schema
# listed a 409 on every POST.
CONFLICTING_POSTS = ("/transition/", "/sessions/", "/stats/rollups/")
# The GETs with an ETag and Last-Modified (dashboards.api.StatsReadMixin): the statistics and the
# assessments (dashboards.assessment_api).
CONDITIONAL_READS = ("/api/v1/stats/", "/api/v1/assessments/")
# The caller's notices (governance.api.NotificationListApi): an ETag and Last-Modified of their own,
# JSON only and no paging headers.
CONDITIONAL_NOTICES = "/api/v1/notifications/"
# The reads every role may make, each within its scope (tests/api/test_read_status_codes.py sends
# them every request that could draw an error and compares the codes with these). No role is refused
# them: their only 403 is that of a session signed in with a temporary password an administrator set
# (governance.middleware.PasswordChangeRequiredMiddleware, before any view), which the schema said was
# "this role may not do this".
OPEN_READS = ("/api/v1/areas/", "/api/v1/stats/", "/api/v1/assessments/", "/api/v1/notifications/")
# The writes every role may make, on its own records only (the caller's notices): their only 403 is
# that of a session with a temporary password, as for the reads above.
OPEN_WRITES = ("/api/v1/notifications/",)
# Of those, the ones that never answer 404: lists whose area filters refuse a code missing or outside
# the scope with a 400 naming the filter (docs/api.md), as they do a page past the last. The others
# answer 404 for a record or an area named by the address (areas/{code}/, assessments/{id}/results/)
# or by a parameter the read is of (stats/rankings/ parent, stats/series/ area), and areas/locate/ for
# a point in no grid of the scope.
READS_WITHOUT_404 = (
    "/api/v1/areas/",
    "/api/v1/areas/geojson/",
    "/api/v1/assessments/",
    "/api/v1/stats/indicators/",
    "/api/v1/stats/values/",
    "/api/v1/stats/rollups/",
    "/api/v1/notifications/",
)
# The workflow lists never answer 404 either: nothing in their path names a record, a filter naming an
# area, grid, department, organisation or mediator missing or outside the scope is a 400 naming it,
# and so is a page past the last (tests/api/test_workflow_list_status_codes.py).
WORKFLOW_LISTS = (
    "/api/v1/incidents/",
    "/api/v1/incidents/departments/",
    "/api/v1/disputes/",
    "/api/v1/petitions/",
)
# The statistics imports (dashboards.api, POST only): no record in their path, and an unknown or
# outside area is a row's 400, so no 404; they read JSON or multipart, so a form post is a 415
# (tests/api/test_read_status_codes.py sends them every request that could draw an error).
IMPORTS = ("/api/v1/stats/case-counts/", "/api/v1/stats/populations/", "/api/v1/surveys/responses/")
# The other POSTs that never answer 404: no record in their path, and an area, a grid, a category or
# an organisation missing or outside the sender's reach is a 400 naming the field; a registration
# sent again whose record has since moved out of reach is the 409 its view documents (a Conflict,
# not a 404: tests/grids, tests/mediation and tests/petitions test_api.py draw it). A rollup run
# names nothing. tests/api/test_write_status_codes.py sends every write every request that could
# draw an error and compares the codes with these.
WRITES_WITHOUT_404 = (
    "/api/v1/incidents/",
    "/api/v1/disputes/",
    "/api/v1/petitions/",
    "/api/v1/stats/rollups/",
    "/api/v1/notifications/read/",  # marks the caller's own, by a number in the body
)
TEMPORARY_PASSWORD = gettext_lazy(
    "Signed in by the session with a temporary password an administrator set: change it on My account "
    "first. (Every role may read this.)"
)
TEMPORARY_PASSWORD_WRITE = gettext_lazy(
    "Signed in by the session with a temporary password an administrator set: change it on My account "
    "first. (Every role may do this.)"
)


def request_too_large(json_limit: int) -> str:
    """The 413's description in the schema, with the limits as configured (lazy: worded in the
    language of the schema's request, though built when a module is imported)."""
    from governance.rest import size_text

    return format_lazy(
        gettext_lazy(
            "The request body is too large: a JSON body over {json_limit}, or any body over {any_limit}. "
            "Nothing was read or saved."
        ),
        json_limit=size_text(json_limit),
        any_limit=size_text(settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
    )


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: document the error answers every endpoint can give, in the one error
    format of governance.rest, so the schema tells clients (and schemathesis) the truth."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    # Every request with a body can be too large: any body over DATA_UPLOAD_MAX_MEMORY_SIZE
    # (governance.middleware), a JSON one over API_JSON_MAX_BYTES (governance.rest.JSONParser). The
    # imports, which take larger JSON bodies, declare their own limits.
    too_large = request_too_large(settings.API_JSON_MAX_BYTES)
    ref = {"$ref": "#/components/schemas/Error"}
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            codes = dict(_ERRORS)
            if method == "post" and path.endswith(CONFLICTING_POSTS):
                codes["409"] = gettext_lazy("Not allowed in the record's current state; nothing changed.")
            if method == "get" and path.startswith(OPEN_READS):
                codes["403"] = TEMPORARY_PASSWORD
                if path in READS_WITHOUT_404:
                    del codes["404"]
            if method == "get" and path in WORKFLOW_LISTS:
                del codes["404"]
            if method == "post" and path.startswith(OPEN_WRITES):
                codes["403"] = TEMPORARY_PASSWORD_WRITE
            if method == "post" and "requestBody" in operation:
                # Every body-taking POST reads only the types its request body lists: anything else
                # (text/plain, XML ...) is refused before the view (DRF's parsers).
                codes["415"] = gettext_lazy(
                    "The body is of a type this endpoint does not read: send one its request body "
                    "lists (JSON; a form or multipart where listed). Nothing was read or saved."
                )
            # No GET lists a 413: a read takes no body (the middleware refuses any request whose
            # Content-Length is over the limit, a read's too, but no client following the schema sends one).
            if method == "post" and path.endswith("/reveal/"):
                codes["429"] = gettext_lazy(
                    "You reached your reveal limit (PERSONAL_DATA_REVEAL_LIMIT people's details within "
                    "PERSONAL_DATA_REVEAL_MINUTES), or this address made too many failed token "
                    "authentications: nothing shown or logged (`Retry-After`: the seconds to wait)."
                )
            if path.endswith("/auth/token/"):
                _describe_token(codes)
            if method == "post" and path in WRITES_WITHOUT_404:
                del codes["404"]
            if method == "post" and path in IMPORTS:
                del codes["404"]
                codes["415"] = gettext_lazy(
                    "The body is neither JSON nor multipart: send a JSON list of rows, or upload a CSV "
                    "file in the field `file` (a form post is refused)."
                )
            for code, description in codes.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
            if "requestBody" in operation:
                responses.setdefault("413", {"description": too_large})
            for code in ("400", "409", "413"):
                declared = responses.get(code)
                if declared is not None and "content" not in declared:
                    # Declared by its view with a description only (the survey import's "imported
                    # already", an import's size limits, what an incident step's 400 names), it still
                    # answers in the one error format.
                    declared["content"] = {"application/json": {"schema": ref}}
            if method == "get" and path.startswith(CONDITIONAL_READS):
                _describe_conditional_read(responses)
            if method == "get" and path == CONDITIONAL_NOTICES:
                _describe_conditional_notices(responses)
            if method == "get" and "304" in responses:
                operation.setdefault("parameters", []).extend(
                    dict(h, schema=dict(h["schema"])) for h in CONDITIONAL_REQUEST_HEADERS
                )
    return result


def _describe_token(codes: dict[str, str]) -> None:
    """``auth/token/`` (governance.api.TokenObtainApi) takes no credentials, reads JSON only and names
    no record (tests/api/test_read_status_codes.py sends it every request that could draw an error).
    It refuses no role, but a browser session signed in with a temporary password is refused before
    the view (governance.middleware.PasswordChangeRequiredMiddleware), whatever the body names."""
    codes["401"] = gettext_lazy(
        "Wrong username or password, or a temporary password not yet changed (`detail` says which)."
    )
    codes["403"] = gettext_lazy(
        "Sent with the cookie of a browser session signed in with a temporary password an administrator "
        "set: change it on My account first (or send the request without the session's cookie)."
    )
    del codes["404"]
    codes["415"] = gettext_lazy(
        "The body is not JSON: send `Content-Type: application/json` (a form post is refused)."
    )
    # Locked, as the login page answers it (django-axes): a 429 and when to try again.
    codes["429"] = gettext_lazy(
        "Too many failed logins: locked for a while (`Retry-After`: the seconds to wait)."
    )


def _header(description: str, kind: str = "string") -> dict:
    return {"description": description, "schema": {"type": kind}}


# The headers of a statistics or assessment read (dashboards.api.StatsReadMixin, docs/statistics.md
# "CSV" and "Conditional GET"): a CSV client pages by them, every client revalidates with them.
VALIDATOR_HEADERS = {
    "ETag": _header(
        gettext_lazy("The answer's version: send it back in If-None-Match to get a 304 while it holds.")
    ),
    "Last-Modified": _header(
        gettext_lazy(
            "When the data of the answer last changed (the statistics: the end of the last successful "
            "rollup run, or the last change to an area or a membership when later; docs/statistics.md "
            '"Conditional GET"); If-Modified-Since is checked against it.'
        )
    ),
}
READ_HEADERS = {
    **VALIDATOR_HEADERS,
    "Cache-Control": _header(
        gettext_lazy("private, no-cache: a cache keeps the answer but asks again each time.")
    ),
    "Content-Disposition": _header(
        gettext_lazy(
            'CSV answers only: attachment; filename="rankings-survey_safety_rate-2026Q3-340102000000.csv", '
            "the endpoint, then the parameters given as validated (codes, periods, years and ids, and the "
            'run an assessment\'s results hold; any other character written "_"), then page2 ... after the '
            'first page (docs/statistics.md "CSV").'
        )
    ),
    "X-Total-Count": _header(
        gettext_lazy(
            "The number of rows of the whole list, over every page; not sent when stats/values/ "
            "estimates its count (count_exact false)."
        ),
        "integer",
    ),
    "Link": _header(
        gettext_lazy(
            'The neighbouring pages, RFC 8288: <...&page=3>; rel="next", <...>; rel="previous" '
            "(absent when the list has one page)."
        )
    ),
}
# What asks a conditional read for its 304: the schema listed the 304 and the validators of the 200,
# not the request headers that send them back, so a generated client could not revalidate.
CONDITIONAL_REQUEST_HEADERS = [
    {
        "in": "header",
        "name": "If-None-Match",
        "required": False,
        "schema": {"type": "string"},
        "description": (
            gettext_lazy(
                "The ETag of an answer the client holds (or `*`): 304 with no body while it still holds. "
                'Weak comparison: W/"..." matches too. Checked before If-Modified-Since.'
            )
        ),
    },
    {
        "in": "header",
        "name": "If-Modified-Since",
        "required": False,
        "schema": {"type": "string"},
        "description": (
            gettext_lazy(
                "The Last-Modified of an answer the client holds (an HTTP date, whole seconds): 304 when "
                "nothing changed since. Read only without If-None-Match; prefer the ETag."
            )
        ),
    },
]
CSV_PAGE = {
    "type": "string",
    "description": (
        gettext_lazy(
            "UTF-8 with a BOM; a header row of the JSON field names, then one line per result of this page "
            "(X-Total-Count and Link say whether more follow). Null is an empty cell; times are ISO 8601 "
            "to the second with their offset."
        )
    ),
}


NOTICE_HEADERS = {
    "ETag": VALIDATOR_HEADERS["ETag"],
    "Last-Modified": _header(
        gettext_lazy(
            "When the caller's notices last changed (the last one written or read); If-Modified-Since is "
            "checked against it, to the second: If-None-Match is exact."
        )
    ),
    "Cache-Control": READ_HEADERS["Cache-Control"],
}


def _describe_conditional_notices(responses: dict) -> None:
    """The caller's notices answer 304 while none was written, read or deleted (docs/api.md
    "Notifications")."""
    responses.setdefault(
        "304",
        {
            "description": gettext_lazy(
                "Not modified: no notice was written or read since the ETag or date sent."
            ),
            "headers": {name: NOTICE_HEADERS[name] for name in ("ETag", "Last-Modified")},
        },
    )
    if "200" in responses:
        responses["200"].setdefault("headers", {}).update(NOTICE_HEADERS)


def _describe_conditional_read(responses: dict) -> None:
    """A statistics or assessment read answers 304 to If-None-Match / If-Modified-Since, with no
    body; its 200 carries the validators and the paging headers, and its CSV is text, not the JSON page
    drf-spectacular describes for every renderer."""
    responses.setdefault(
        "304",
        {
            "description": gettext_lazy("Not modified: the ETag or date the client sent still holds."),
            "headers": dict(VALIDATOR_HEADERS),
        },
    )
    ok = responses.get("200")
    if ok is None:
        return
    ok.setdefault("headers", {}).update(READ_HEADERS)
    if "text/csv" in ok.get("content", {}):
        ok["content"]["text/csv"] = {"schema": dict(CSV_PAGE)}
