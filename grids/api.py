"""REST API of incidents (DESIGN.md section 7): list/create, detail, transition, timeline."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api import DateTimeField, FloatField, KnownParamsMixin
from governance.models import MAX_ID, Department
from governance.pii import mask_numbers_in_text
from governance.rest import (
    ACTIONS_HELP,
    STATE_RICHER_HELP,
    CalendarListSerializer,
    Conflict,
    DeferredJoinPagination,
    JSONParser,
    KnownFieldsSerializer,
    provisional_due_years_field,
    service_checked_errors,
    step_input,
    step_state_field,
    submission_field,
)
from governance.workflow import validate_form_state
from grids import selectors, services
from grids.filters import IncidentFilter
from grids.forms import TEXT_MAX, MonthForm
from grids.models import (
    WORKFLOW,
    Incident,
    IncidentEvent,
    IncidentPhoto,
    Level,
    allowed_actions,
    may_perform,
    reads_in_full,
    text_for_reader,
)
from grids.photos import MAX_PER_STEP


class IncidentPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "At most 320 px a side, served with the same access as url (the photo itself while it has none)."
        )
    )
    display_url = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "At most 640 px a side, to look at on a phone; same access as url (the photo itself while it has none)."
        )
    )

    class Meta:
        model = IncidentPhoto
        fields = [
            "id",
            "url",
            "thumbnail_url",
            "display_url",
            "stage",
            "content_type",
            "width",
            "height",
            "size",
            "uploaded_at",
        ]

    def get_url(self, obj: IncidentPhoto) -> str:
        return reverse("grids-photo", args=[obj.pk])

    def get_thumbnail_url(self, obj: IncidentPhoto) -> str:
        return reverse("grids-photo-thumbnail", args=[obj.pk])

    def get_display_url(self, obj: IncidentPhoto) -> str:
        return reverse("grids-photo-display", args=[obj.pk])


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name"]
        read_only_fields = fields


# The free-text fields whose numbers are masked for readers who do not work on the area's incidents.
READER_TEXT = ("description", "address", "resolution", "evaluation_note")


class IncidentSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    grid = serializers.SlugRelatedField(slug_field="code", read_only=True)
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    level_area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    reporter = serializers.CharField(source="reporter.__str__", read_only=True)
    # Read-only fields that can be empty say so (allow_null / allow_blank): DRF drops what the model
    # field says for read-only fields, and the schema then promised a value a new record lacks.
    department = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    department_name = serializers.CharField(
        source="department.name", read_only=True, default=None, allow_null=True
    )
    # A coordination item's supporting departments (empty for others); ``department`` is the lead.
    supporting_departments = DepartmentRefSerializer(many=True, read_only=True)
    resolved_level = serializers.ChoiceField(choices=Level.choices, read_only=True, allow_blank=True)
    evaluation = serializers.ChoiceField(
        choices=Incident.Evaluation.choices, read_only=True, allow_blank=True
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    provisional_due_years = provisional_due_years_field()

    def to_representation(self, instance: Incident) -> dict:
        data = super().to_representation(instance)
        if not reads_in_full(self.context["request"].user, instance):  # decided once per incident
            for name in READER_TEXT:
                data[name] = mask_numbers_in_text(data[name])
        return data

    class Meta:
        model = Incident
        list_serializer_class = CalendarListSerializer
        fields = [
            "code", "category", "category_name", "grid", "grid_name", "lat", "lng", "address",
            "description", "occurred_at", "reported_at", "reporter", "kind", "level", "level_area",
            "department", "department_name", "supporting_departments", "status", "status_label", "due_at",
            "overdue", "provisional_due_years", "resolution", "resolved_level", "resolved_at", "closed_at", "evaluation", "evaluation_note",
        ]  # fmt: skip
        read_only_fields = fields


class DispatchDepartmentSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)

    class Meta:
        model = Department
        fields = ["id", "name", "area", "area_name"]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    photos = IncidentPhotoSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField(help_text=ACTIONS_HELP)
    # The ids ``dispatch`` takes: no other endpoint lists departments, so a client could not dispatch.
    dispatch_departments = serializers.SerializerMethodField()
    step_state = step_state_field()

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "photos", "actions", "dispatch_departments", "step_state"]
        read_only_fields = fields

    def to_representation(self, instance: Incident) -> dict:
        data = super().to_representation(instance)
        if not reads_in_full(self.context["request"].user, instance):
            data["photos"] = []  # for those who work on the area's incidents (photo_get_for_user)
        return data

    def get_actions(self, obj: Incident) -> list[str]:
        """The actions the requesting user may take now."""
        return allowed_actions(self.context["request"].user, obj)

    @extend_schema_field(DispatchDepartmentSerializer(many=True))
    def get_dispatch_departments(self, obj: Incident) -> list[dict]:
        """The departments ``dispatch`` may name, while the user may dispatch it (a first dispatch, or
        again while it is dispatched: else empty)."""
        if "dispatch" not in self.get_actions(obj):
            return []
        return DispatchDepartmentSerializer(selectors.dispatch_departments(obj), many=True).data


class IncidentEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.__str__", read_only=True)
    action_label = serializers.CharField(read_only=True)
    department = serializers.CharField(
        source="department.name", read_only=True, default=None, allow_null=True
    )
    supporting_departments = serializers.SlugRelatedField(
        slug_field="name",
        many=True,
        read_only=True,
        help_text=gettext_lazy("dispatch: the supporting departments named"),
    )
    acting_department = serializers.CharField(
        source="acting_department.name",
        read_only=True,
        default=None,
        allow_null=True,
        help_text=gettext_lazy(
            "the department whose own handler took the step (start of handling, feedback, return, "
            "assist), as the handler's membership was then; null for a centre's handler acting for it "
            "and for other steps"
        ),
    )
    from_level = serializers.ChoiceField(choices=Level.choices, read_only=True, allow_blank=True)
    level = serializers.ChoiceField(choices=Level.choices, read_only=True, allow_blank=True)
    photos = IncidentPhotoSerializer(many=True, read_only=True)

    def to_representation(self, instance: IncidentEvent) -> dict:
        data = super().to_representation(instance)
        user = self.context["request"].user
        data["note"] = text_for_reader(user, instance.incident, data["note"])
        if data["photos"] and not reads_in_full(user, instance.incident):
            data["photos"] = []  # as on the incident (photo_get_for_user)
        return data

    class Meta:
        model = IncidentEvent
        fields = [
            "id", "at", "actor", "action", "action_label", "from_status", "to_status", "note",
            "department", "acting_department", "supporting_departments", "from_level", "level", "step_due_at", "on_time", "photos",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    get=extend_schema(
        summary=gettext_lazy("List incidents"),
        description=gettext_lazy(
            "The incidents in the grids of your scope, newest first by default (`sort`: `due`, `newest`, "
            "`oldest`), paginated. A filter naming an area, grid or department you may not see is a 400 "
            "naming the filter, as an unknown value is."
        ),
    )
)
class IncidentListApi(KnownParamsMixin, generics.ListAPIView):
    """Incidents visible to the user (its area subtree). POST reports a new one (JSON or multipart
    with ``photos``); the grid is found from ``lat``/``lng`` or given as ``grid``."""

    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    pagination_class = DeferredJoinPagination
    params = tuple(IncidentFilter.base_filters)
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class InputSerializer(KnownFieldsSerializer):
        category = serializers.CharField(help_text=gettext_lazy("category code"))
        # The pages' limits (grids/forms.py): a text the report page refuses is refused here too.
        description = serializers.CharField(max_length=TEXT_MAX)
        lat = FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
        lng = FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
        grid = serializers.CharField(
            required=False, allow_blank=True, help_text=gettext_lazy("grid code, if no point")
        )
        occurred_at = DateTimeField(required=False)
        address = serializers.CharField(required=False, allow_blank=True, max_length=200)
        kind = serializers.ChoiceField(
            choices=Incident.Kind.choices,
            required=False,
            help_text=gettext_lazy(
                "default promised; on_the_spot (closed at once, with resolution and a photo) only by a grid "
                "worker of the grid"
            ),
        )
        resolution = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX)
        photos = serializers.ListField(
            child=serializers.FileField(),
            required=False,
            max_length=6,
            help_text=gettext_lazy("JPEG/PNG/WebP, <= 10 MB"),
        )
        submission = submission_field("report")

    def get_queryset(self):
        return selectors.incident_list(self.request.user)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: IncidentSerializer,
            409: OpenApiResponse(
                description=gettext_lazy(
                    "sent again with the key of a report saved already whose incident is no "
                    "longer in the sender's area (names its number only)"
                )
            ),
        },
        summary=gettext_lazy("Report an incident"),
        description=gettext_lazy(
            "Reports an incident, as JSON or as multipart/form-data with up to 6 `photos`, and answers it "
            "(201). Grid workers and handlers only; other roles get 403. The grid is found from `lat` and "
            "`lng` or given as `grid`, and must be in your area; `occurred_at` may not be in the future. "
            "Every error is named in one 400 and nothing is saved; `submission` makes sending it again safe."
        ),
    )
    def post(self, request):
        if not services.may_report(request.user):  # a read-only role: 403 whatever it sent
            raise PermissionDenied(_("Only grid workers and handlers report incidents."))
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            # Where and when are checked too, on what the input could read: a point outside the
            # reporter's grids or a time to come came only in a second 400, once the first was fixed.
            refused = set(data.errors)
            raise serializers.ValidationError(
                service_checked_errors(data, lambda v: _place_and_time_check(request.user, v, refused))
            )
        v = data.validated_data
        incident = services.incident_report(
            actor=request.user,
            category=v["category"],
            description=v["description"],
            occurred_at=v.get("occurred_at"),
            lat=v.get("lat"),
            lng=v.get("lng"),
            grid=v.get("grid") or None,
            address=v.get("address", ""),
            kind=v.get("kind") or Incident.Kind.PROMISED,
            resolution=v.get("resolution", ""),
            photos=v.get("photos", []),
            submission=v.get("submission"),
        )
        gone = selectors.reported_out_of_reach(request.user, incident)
        if gone:
            raise Conflict(gone)
        return Response(
            IncidentSerializer(incident, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


def _place_and_time_check(actor, v: dict, refused: set[str]) -> None:
    """``services.report_place_and_time_errors`` on a refused report's readable input, raised as the
    service raises them, and the category: the page's form refuses an unknown one with its other
    errors, but here it is a code read as text that only the service looked up, so an unknown one
    came in a second 400 once the first was fixed."""
    errors = services.report_place_and_time_errors(actor=actor, values=v, refused=refused)
    if "category" not in refused and v.get("category"):
        try:
            services.resolve_category(v["category"])
        except DjangoValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise DjangoValidationError(errors)


@extend_schema(
    summary=gettext_lazy("Read an incident"),
    description=gettext_lazy(
        "One incident in your scope, with its photos (to those who work on the area's incidents), the "
        "actions you may take on it now (`actions`) and the departments a dispatch may name. An incident "
        "outside your scope is the same 404 as one that does not exist."
    ),
)
class IncidentDetailApi(generics.RetrieveAPIView):
    serializer_class = IncidentDetailSerializer

    def get_object(self):
        return selectors.incident_get_for_user(self.request.user, self.kwargs["code"])


class IncidentTransitionApi(KnownParamsMixin, APIView):
    """Perform one workflow action. 409 when the action is not allowed from the current state."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class InputSerializer(KnownFieldsSerializer):
        action = serializers.CharField(
            help_text=gettext_lazy(
                "accept, reject, escalate, dispatch, return, handle, feedback, assist, verify, close, evaluate"
            )
        )
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX)
        department = serializers.IntegerField(
            required=False,
            help_text=gettext_lazy(
                "dispatch: the (lead) department id; assist: which supporting department, "
                "needed only when the user could act for several or is an administrator"
            ),
        )
        supporting_departments = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
            required=False,
            help_text=gettext_lazy(
                "dispatch of a coordination item: ids of one or more supporting departments"
            ),
        )
        result = serializers.ChoiceField(
            choices=["pass", "fail"],
            required=False,
            help_text=pgettext_lazy("API field: the actions it is for", "verify"),
        )
        kind = serializers.ChoiceField(
            choices=[Incident.Kind.PROMISED, Incident.Kind.COORDINATION],
            required=False,
            help_text=pgettext_lazy("API field: the actions it is for", "accept"),
        )
        resolution = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=TEXT_MAX,
            help_text=pgettext_lazy("API field: the actions it is for", "feedback"),
        )
        evaluation = serializers.ChoiceField(choices=Incident.Evaluation.choices, required=False)
        photos = serializers.ListField(
            child=serializers.FileField(),
            required=False,
            max_length=MAX_PER_STEP,
            help_text=format_lazy(
                gettext_lazy(
                    "feedback and verify only (the report's photos go with it to POST /api/v1/incidents/): "
                    "up to {count} JPEG/PNG/WebP files of at most 10 MB each, sent as multipart/form-data. "
                    "Photos with any other action, more files, or a file too large or not a picture are "
                    "refused with a 400 naming `photos`, and nothing is saved"
                ),
                count=MAX_PER_STEP,
            ),
        )
        state = serializers.CharField(
            required=False,
            max_length=60,
            validators=[validate_form_state],
            help_text=format_lazy(
                "{}. {}",
                gettext_lazy(
                    "optional: the item's status/level as the client last saw it (e.g. "
                    "reported/community); a step this user already took from that state, nobody acting since, "
                    "is answered as done (200) and not taken again (a retry after a lost answer)"
                ),
                STATE_RICHER_HELP,
            ),
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            200: IncidentDetailSerializer,
            400: OpenApiResponse(
                description=format_lazy(
                    gettext_lazy(
                        "Invalid input: `errors` names each field, e.g. `photos` sent with an action other than "
                        "feedback or verify, more than {count} of them, or one too large or not a picture"
                    ),
                    count=MAX_PER_STEP,
                )
            ),
        },
        summary=gettext_lazy("Take a step on an incident"),
        description=gettext_lazy(
            "Takes one workflow action (`action`, `note` and the action's own fields; photos, as "
            "multipart/form-data, with feedback and verify only) and answers the incident as it now is. "
            "409 when the action is not allowed from the current status (named), 403 when your role may not "
            "take it, 400 naming the field, 404 outside your scope. With `state`, a step you already took "
            "from that state is answered as done, not taken again."
        ),
    )
    def post(self, request, code: str):
        incident = selectors.incident_get_for_user(request.user, code, write=True)
        v = step_input(
            self.InputSerializer(data=request.data), user=request.user, record=incident, workflow=WORKFLOW,
            may_perform=may_perform, refusal=_("Your role may take no such step on this incident."),
        )  # fmt: skip
        # ``state`` (optional): a step this user already took from it is answered as done, not retaken.
        services.incident_transition(
            incident=incident,
            actor=request.user,
            action=v.pop("action"),
            note=v.pop("note", ""),
            photos=v.pop("photos", []),
            **v,
        )
        incident = selectors.incident_get_for_user(request.user, code)
        return Response(IncidentDetailSerializer(incident, context={"request": request}).data)


@extend_schema(
    summary=gettext_lazy("An incident's timeline"),
    description=gettext_lazy(
        "The steps taken on an incident in your scope, oldest first, paginated: who took each and when, "
        "the action, the status and level before and after, and the note. An incident outside your scope "
        "is a 404."
    ),
)
class IncidentEventListApi(KnownParamsMixin, generics.ListAPIView):
    """The incident's timeline, oldest first."""

    serializer_class = IncidentEventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no URL kwargs
            return IncidentEvent.objects.none()
        incident = selectors.incident_get_for_user(self.request.user, self.kwargs["code"])
        return selectors.incident_events(incident)


class DepartmentRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="department.pk")
    name = serializers.CharField(source="department.name")
    area = serializers.CharField(
        source="department.area.code", help_text=gettext_lazy("code of the department's area")
    )
    area_name = serializers.CharField(source="department.area.name")
    steps_due = serializers.IntegerField(
        help_text=gettext_lazy(
            "handle + feedback steps the department owned whose deadline falls in the month"
        )
    )
    steps_late = serializers.IntegerField(
        help_text=gettext_lazy("of them, done late or still open past the deadline")
    )
    on_time_rate = serializers.FloatField(
        allow_null=True,
        help_text=gettext_lazy("percent of steps_due done by the deadline; null when none are due"),
    )
    open_now = serializers.IntegerField(
        help_text=gettext_lazy("open items with the department now (dispatched, handling)")
    )
    overdue_now = serializers.IntegerField(help_text=gettext_lazy("of them, past the current deadline"))
    supporting_now = serializers.IntegerField(
        help_text=gettext_lazy("open items (dispatched, handling) the department supports for another lead")
    )


class MayViewDepartments(BasePermission):
    """Centre handlers of a street, district or city, analysts and admins: checked with the
    authentication, so another role gets its 403 before any parameter is read (docs/api.md)."""

    message = selectors.DEPARTMENTS_FORBIDDEN

    def has_permission(self, request, view) -> bool:
        return selectors.may_view_departments(request.user)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "month",
            OpenApiTypes.STR,
            description=gettext_lazy("YYYY-MM (local month), default the current one"),
        )
    ],
    responses={200: DepartmentRecordSerializer(many=True)},
    summary=gettext_lazy("Departments' record for a month"),
    description=gettext_lazy(
        "Each department of your area with its record for the local `month` (YYYY-MM, default the current "
        "one), paginated: handling and feedback steps due, those late and the on-time rate, items with it "
        "now, overdue now, and those it supports for another lead. Centre handlers of a street, district "
        "or city, analysts and administrators only; other roles get 403 before any parameter is read."
    ),
)
class IncidentDepartmentListApi(KnownParamsMixin, generics.ListAPIView):
    """Each department of the user's area with its record for a month: steps due, late, on-time %,
    items with it now and overdue now (docs/incidents.md "Departments' record"). Centre handlers of a
    street, district or city, analysts and admins; other roles get 403."""

    serializer_class = DepartmentRecordSerializer
    filter_backends: list = []
    permission_classes = [IsAuthenticated, MayViewDepartments]
    params = ("month",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Department.objects.none()
        form = MonthForm(self.request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError({f: [str(e) for e in errs] for f, errs in form.errors.items()})
        return selectors.DepartmentRecords(self.request.user, form.cleaned_data["month"])

    def list(self, request, *args, **kwargs):
        rows = self.paginate_queryset(self.get_queryset())  # counted for the page's rows only
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)
