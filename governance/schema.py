"""OpenAPI schema generation (drf-spectacular), kept apart from governance.rest because importing
drf_spectacular.openapi pulls in rest_framework.generics, which reads the pagination class from
settings: in one module they would import each other."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


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
