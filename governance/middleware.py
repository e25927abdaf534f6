from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.middleware import common
from django.utils.http import escape_leading_slashes


class PersonalDataLogScopeMiddleware:
    """The personal values a request decrypts or encrypts are masked in the log lines it writes (an
    "Internal Server Error" whose text carries a name or an address, which no pattern recognises):
    ``governance.logging`` collects them for the duration of the request, and forgets them after."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from governance.logging import tracking_plaintext

        with tracking_plaintext():
            return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Sends ``Permissions-Policy`` (settings.PERMISSIONS_POLICY) on every answer that has none: the
    browser features a page of this site may ask for, and from which origins. Django has no setting
    for it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})" for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


class NoStoreMiddleware:
    """Pages and API answers for signed-in users may carry personal data: browsers and proxies must
    not keep them. Static files and anonymous pages are unaffected; a view may set its own policy
    (the statistics API answers with ETags and ``private, no-cache``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


def request_language(request: HttpRequest):
    """The request's language (Accept-Language, the language cookie) for an answer given before
    LocaleMiddleware has chosen it: such an answer was in the site's language whatever the client
    asked for."""
    from django.utils import translation

    return translation.override(translation.get_language_from_request(request))


class RejectNullCharactersMiddleware:
    """PostgreSQL text cannot hold NUL characters: a query string, path or token header containing one is refused
    with a 400 here, once, instead of a database error in whichever filter received it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The parameters holding one are named, as every bad parameter is (DESIGN.md section 7).
        params = [
            key.replace("\x00", "")
            for key, values in request.GET.lists()
            if "\x00" in key or any("\x00" in value for value in values)
        ]
        if (
            "\x00" in request.path
            # The token header too: DRF looks the key up as given (a 500 from the database).
            or "\x00" in request.META.get("HTTP_AUTHORIZATION", "")
            or params
        ):
            from django.http import JsonResponse
            from django.utils.translation import gettext as _

            from governance.rest import invalid_input

            with request_language(request):
                message = _("The request contains a NUL character, which is never valid here.")
                body: dict = {"detail": message}
                if params:
                    # Worded as DRF's validation errors are (docs/api.md "Errors"): ``detail``
                    # repeats ``errors``. A NUL in the path or the token header names no field.
                    body["errors"] = {key: [message] for key in params}
                    body["detail"] = invalid_input(body["errors"])
            return JsonResponse(body, status=400)
        return self.get_response(request)


class RequestSizeMiddleware:
    """A request body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused (413) before it is read.
    Django leaves the files of a multipart body out of that limit, and the photo, evidence and CSV
    size checks ran only once the whole body had been received: any signed-in user could stream
    gigabytes to the server's temporary disk, holding a worker meanwhile. (A body sent without a
    length, chunked, is left to the TLS proxy in front, which should cap bodies at the same size.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            from django.http import JsonResponse
            from django.utils.translation import gettext as _

            with request_language(request):
                message = _("The request is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}
            return JsonResponse({"detail": message}, status=413)
        return self.get_response(request)


class MethodKeepingRedirect(HttpResponsePermanentRedirect):
    """308 Permanent Redirect: unlike a 301, the client repeats the same method with the same body."""

    status_code = 308


class CommonMiddleware(common.CommonMiddleware):
    """Django's, except that an API path missing its final slash is redirected with a 308 in JSON.

    Django answers ``/api/v1/incidents`` with a 301 to ``/api/v1/incidents/``, and clients repeat a
    301 as a GET: ``POST /api/v1/incidents`` came back 200 with the list, and the report was never
    saved (under DEBUG Django refused such a POST with a 500 instead). A 308 has the client send the
    same method and body to the path with the slash; its ``detail`` names that path for one that
    does not follow redirects. Pages keep Django's 301."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            response.status_code == 404
            and request.path.startswith("/api/")
            and self.should_redirect_with_slash(request)
        ):
            from django.utils.translation import gettext as _

            location = escape_leading_slashes(request.get_full_path(force_append_slash=True))
            detail = _("Every API path ends with a slash: send the request to %(path)s.") % {"path": location}
            return MethodKeepingRedirect(
                location, content=json.dumps({"detail": detail}), content_type="application/json"
            )
        return super().process_response(request, response)


class TrustedProxySchemeMiddleware:
    """Whether the request came over HTTPS, by the proxy's ``X-Forwarded-Proto`` when the peer is the
    proxy (``governance.services.from_trusted_proxy``). Django's ``SECURE_PROXY_SSL_HEADER`` believed
    the header from any peer: a client that reached gunicorn around the proxy was taken to be on
    HTTPS (no redirect, HSTS sent), while gunicorn itself, which reads ``FORWARDED_ALLOW_IPS`` too,
    said http. Here the scheme is the proxy's word from the proxy, and gunicorn's (``wsgi.url_scheme``:
    http, or https from a trusted peer) otherwise, so the two agree; other WSGI servers (runserver)
    follow the same rule. Before SecurityMiddleware, which redirects and sends HSTS by it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from governance.services import from_trusted_proxy

        forwarded = request.META.get("HTTP_X_FORWARDED_PROTO")
        if forwarded is not None and from_trusted_proxy(request):
            # As gunicorn reads it (http/message.py): https only when the whole value is "https",
            # so "https, http" (a proxy appending to what the client sent) is plain HTTP to both.
            # request.scheme reads wsgi.url_scheme from the environ, which META is.
            request.META["wsgi.url_scheme"] = "https" if forwarded.strip() == "https" else "http"
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """A user signed in with a temporary password an administrator set (``must_change_password``,
    governance.services.user_password_reset) is sent to the password change before anything else:
    every page redirects there, the API (by the session) answers 403 saying why. Changing the
    password, signing out and switching the language stay open. After AuthenticationMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.urls import reverse

        self.get_response = get_response
        self.change = reverse("governance-password-change")
        self.open = {self.change, reverse("governance-logout"), reverse("set_language")}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and request.path_info not in self.open
        ):
            from django.http import JsonResponse
            from django.shortcuts import redirect
            from django.utils.translation import gettext as _

            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    {"detail": _("You signed in with a temporary password: change it on My account first.")},
                    status=403,
                )
            return redirect(self.change)
        return self.get_response(request)


class HealthCheckMiddleware:
    """``/healthz`` is answered here, first, before the Host header is validated and before the TLS
    redirect. Its callers are probes that speak plain HTTP to the container's own address: the
    docker-compose healthcheck (``http://127.0.0.1:8000/healthz``) and a load balancer probing by IP.
    Further down, ``ALLOWED_HOSTS`` (the public name only) would answer them 400 and
    ``SECURE_SSL_REDIRECT`` a 301 to https, so a healthy server would be reported unhealthy. The answer
    names only which part is down, so it is safe for any Host."""

    PATH = "/healthz"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == self.PATH:
            from governance.views import healthz

            return healthz(request)
        return self.get_response(request)
