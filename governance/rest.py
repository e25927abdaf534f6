"""DRF plumbing shared by every app: pagination and the error format.

Kept apart from the views so that DRF can import these classes from settings without a cycle.
Errors are JSON with a human-readable ``detail``; validation errors also carry ``errors`` keyed by
field, and ``detail`` names the fields. Workflow errors map to 400 / 403 / 409.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from governance.workflow import ActionInvalid, WorkflowError


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _flatten(detail, prefix: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(value, "" if key == "non_field_errors" else name))
    elif isinstance(detail, list):
        for i, value in enumerate(detail):
            if isinstance(value, dict | list):
                out.extend(_flatten(value, f"{prefix}[{i}]"))
            else:
                out.append(f"{prefix}: {value}" if prefix else str(value))
    else:
        out.append(f"{prefix}: {detail}" if prefix else str(detail))
    return out


def exception_handler(exc, context):
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, ActionInvalid):
        exc = exceptions.ValidationError({exc.field: [exc.message]})
    elif isinstance(exc, WorkflowError):
        return Response({"detail": exc.message}, status=exc.status_code)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data
        response.data = {
            "detail": _("Invalid input: %(problems)s") % {"problems": "; ".join(_flatten(errors))},
            "errors": errors if isinstance(errors, dict) else {"non_field_errors": errors},
        }
    elif isinstance(exc, Http404):
        response.data = {"detail": _("No such record, or it is outside your area.")}
    return response


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the record's current state.")
