"""REST API of dispute cases (DESIGN.md section 7): list/register, detail, transition, sessions,
and a reveal of one party's personal data (for the assigned mediator / organisation head, logged).

Parties' personal data is masked in every response except the reveal's."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import pii
from governance.access import get_visible_or_404
from governance.api import DateTimeField, KnownParamsMixin
from governance.rest import (
    ACTIONS_HELP,
    STATE_RICHER_HELP,
    CalendarListSerializer,
    Conflict,
    DeferredJoinPagination,
    KnownFieldsSerializer,
    may_take_step,
    provisional_due_years_field,
    service_checked_errors,
    step_input,
    step_state_field,
    submission_field,
)
from governance.services import client_ip
from governance.workflow import validate_form_state
from mediation import selectors, services
from mediation.filters import DisputeFilter
from mediation.forms import AGREEMENT_MAX, NOTE_MAX
from mediation.models import (
    PERSONS_MAX,
    WORKFLOW,
    DisputeCase,
    DisputeEvent,
    DisputeParty,
    DisputeSession,
    allowed_actions,
    may_perform,
    may_reveal,
)


class ReaderTextMixin:
    """Free text as typed for the assigned mediator and the organisation head, who may reveal the
    parties; with identity and phone numbers masked for every other reader (district staff read a
    party as 张* and the same party's ID number in the description). ``case_of`` gives the record's
    case; a list of one case's rows gets ``case`` in its context."""

    text_fields: tuple[str, ...] = ()

    def case_of(self, obj):
        return self.context.get("case")

    def to_representation(self, obj) -> dict:
        data = super().to_representation(obj)
        request, case = self.context.get("request"), self.case_of(obj)
        if request is not None and case is not None and not may_reveal(request.user, case):
            pii.mask_text_fields(data, self.text_fields, self._parties(case))
        return data

    def _parties(self, case) -> list[DisputeParty]:
        """The case's parties, whose names and details written out in its texts are masked too: read
        once per case and answer (a list's cases come with them prefetched; one case's sessions or
        events share them through the context)."""
        known = self.context.setdefault("_parties_by_case", {})
        if case.pk not in known:
            known[case.pk] = list(case.parties.all())
        return known[case.pk]


class MaskedPartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    name = serializers.CharField(source="masked_name")
    id_number = serializers.CharField(source="masked_id_number")
    phone = serializers.CharField(source="masked_phone")
    address = serializers.CharField(source="masked_address")


@extend_schema_serializer(
    description=gettext_lazy(
        "A dispute case as its list shows it. Parties are masked (the assigned mediator and the "
        "organisation head may reveal one); names, ID numbers and phone numbers in the texts are masked "
        "too, but for those two."
    )
)
class DisputeSerializer(ReaderTextMixin, serializers.ModelSerializer):
    # The referring record is typed as the referrer wrote it ("张三丰报警，电话..."): a text too.
    text_fields = ("description", "referral_reference")
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    source = serializers.CharField(source="origin", read_only=True)
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)
    # Read-only fields that can be empty say so (allow_null / allow_blank): DRF drops what the model
    # field says for read-only fields, and the schema then promised a value a new case lacks.
    incident = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    organisation = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    organisation_name = serializers.CharField(
        source="organisation.name", read_only=True, default=None, allow_null=True
    )
    mediator = serializers.CharField(
        source="mediator.username", read_only=True, default=None, allow_null=True
    )
    outcome = serializers.ChoiceField(choices=DisputeCase.Outcome.choices, read_only=True, allow_blank=True)
    follow_up = serializers.ChoiceField(
        choices=DisputeCase.FollowUp.choices, read_only=True, allow_blank=True
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    provisional_due_years = provisional_due_years_field()
    parties = MaskedPartySerializer(many=True, read_only=True)

    class Meta:
        model = DisputeCase
        list_serializer_class = CalendarListSerializer
        fields = [
            "code", "category", "category_name", "source", "referral_reference", "incident", "area",
            "area_name", "description", "amount", "persons_involved", "risk_violence", "risk_group",
            "received_at", "organisation", "organisation_name", "mediator", "status", "status_label",
            "accepted_at", "due_at", "extended", "overdue", "outcome", "concluded_at", "concluded_on_time",
            "judicial_status", "confirmation_due", "provisional_due_years", "follow_up", "parties",
        ]  # fmt: skip
        read_only_fields = fields

    def case_of(self, obj):
        return obj


@extend_schema_serializer(
    description=gettext_lazy(
        "A dispute case in full, as it is read and as a step answers it, with the actions you may take "
        "now; parties and texts masked as in the list."
    )
)
class DisputeDetailSerializer(DisputeSerializer):
    text_fields = (
        *DisputeSerializer.text_fields,
        "decline_reason",
        "suggested_route",
        "outcome_note",
        "agreement_facts",
        "agreement_terms",
        "performance_method",
    )
    actions = serializers.SerializerMethodField(help_text=ACTIONS_HELP)
    step_state = step_state_field()

    class Meta(DisputeSerializer.Meta):
        fields = [
            *DisputeSerializer.Meta.fields,
            "decline_reason", "suggested_route", "other_routes", "outcome_note", "agreement_facts",
            "agreement_terms", "agreement_amount", "performance_method", "performance_due",
            "agreement_effective_on", "judicial_applied_on", "judicial_decided_on", "follow_up_at",
            "escalation_prevented", "escalation_persons", "group_defused", "group_persons", "police_reported_at",
            "closed_at",
            "actions", "step_state",
        ]  # fmt: skip
        read_only_fields = fields

    def get_actions(self, obj: DisputeCase) -> list[str]:
        """The actions the requesting user may take now."""
        return allowed_actions(self.context["request"].user, obj)


class PartyInputSerializer(KnownFieldsSerializer):
    role = serializers.ChoiceField(choices=DisputeParty.PartyRole.choices)
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=18)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    address = serializers.CharField(required=False, allow_blank=True, max_length=300)


@extend_schema_serializer(
    description=gettext_lazy(
        "A mediation session of a case; its texts are masked as the case's are, but for the assigned "
        "mediator and the organisation head."
    )
)
class SessionSerializer(ReaderTextMixin, serializers.ModelSerializer):
    text_fields = ("place", "attendees", "summary", "next_step")  # a place may be a party's home
    recorded_by = serializers.CharField(source="recorded_by.__str__", read_only=True)

    class Meta:
        model = DisputeSession
        fields = ["id", "held_at", "place", "attendees", "summary", "next_step", "recorded_by", "recorded_at"]
        read_only_fields = fields


def _register_kwargs(v: dict[str, Any]) -> dict[str, Any]:
    """The register service's arguments from the input's values: all of them, or what a refused input
    could read (a refused field is passed as missing)."""
    return {
        "category": v.get("category", ""),
        "area": v.get("area", ""),
        "origin": v.get("source", ""),
        "description": v.get("description", ""),
        "parties": v.get("parties", []),
        "received_at": v.get("received_at"),
        "organisation": v.get("organisation"),
        "referral_reference": v.get("referral_reference", ""),
        "amount": v.get("amount"),
        "persons_involved": v.get("persons_involved"),
        "risk_violence": v.get("risk_violence", False),
        "risk_group": v.get("risk_group", False),
    }


@extend_schema_view(
    get=extend_schema(
        summary=gettext_lazy("List dispute cases"),
        description=gettext_lazy(
            "The cases you may see, most recently received first, paginated: a mediator's organisations' "
            "cases and those assigned to them; district staff (handlers, administrators) the cases of their "
            "area. Other roles, analysts included, see none. Parties are masked, and names and numbers in "
            "the texts too, but for the assigned mediator and the organisation head."
        ),
    )
)
class DisputeListApi(KnownParamsMixin, generics.ListAPIView):
    """Cases visible to the user (mediators: their organisations'; district staff: their area).
    POST registers a case (mediators for their organisation, handlers for referrals)."""

    serializer_class = DisputeSerializer
    filterset_class = DisputeFilter
    pagination_class = DeferredJoinPagination
    params = tuple(DisputeFilter.base_filters)

    class InputSerializer(KnownFieldsSerializer):
        category = serializers.CharField(help_text=gettext_lazy("category code"))
        area = serializers.CharField(help_text=gettext_lazy("grid or community code"))
        source = serializers.CharField(
            help_text=gettext_lazy(
                "own_initiative, application, police, court, petition_office (grid incidents are "
                "converted from the incident)"
            )
        )
        description = serializers.CharField(max_length=AGREEMENT_MAX)
        received_at = DateTimeField(required=False)
        parties = PartyInputSerializer(many=True)
        organisation = serializers.IntegerField(required=False, allow_null=True)
        referral_reference = serializers.CharField(required=False, allow_blank=True, max_length=60)
        amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
        persons_involved = serializers.IntegerField(required=False, min_value=1, max_value=PERSONS_MAX)
        risk_violence = serializers.BooleanField(required=False, default=False)
        risk_group = serializers.BooleanField(required=False, default=False)
        submission = submission_field("registration")

    def get_queryset(self):
        return selectors.dispute_list(self.request.user)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: DisputeSerializer,
            409: OpenApiResponse(
                description=gettext_lazy(
                    "sent again with the key of a case saved already and since transferred "
                    "out of the sender's reach (names the case and where it went)"
                )
            ),
        },
        summary=gettext_lazy("Register a dispute case"),
        description=gettext_lazy(
            "Registers a case with its parties and answers it (201): mediators for their organisation, "
            "handlers for cases referred to mediation; other roles get 403. Every error is named in one 400 "
            "(a party's as `parties[1].id_number`) and nothing is saved; `submission` makes sending it again "
            "safe."
        ),
    )
    def post(self, request):
        if not services.may_register(request.user):  # a read-only role: 403 whatever it sent
            raise PermissionDenied(_("Your role may not register dispute cases."))
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            # The service's checks (area, receipt time, amount, ID numbers, phones ...) run too, on what
            # the input could read: they came only in a second 400, once the first was fixed. The
            # check saves nothing and takes no number.
            raise serializers.ValidationError(
                service_checked_errors(
                    data, lambda v: services.dispute_register_check(actor=request.user, **_register_kwargs(v))
                )
            )
        v = data.validated_data
        case = services.dispute_register(
            actor=request.user, submission=v.get("submission"), **_register_kwargs(v)
        )
        try:
            case = selectors.dispute_get_for_user(request.user, case.code)
        except Http404:
            # The key's case, saved by the first send, was transferred out of reach since: a 404
            # would say it never was.
            raise Conflict(selectors.registered_out_of_reach(case)) from None
        return Response(DisputeSerializer(case).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary=gettext_lazy("Read a dispute case"),
    description=gettext_lazy(
        "One case you may see, with its agreement, judicial confirmation, follow-up and prevention "
        "details and the actions you may take on it now (`actions`); masked as in the list. A case you may "
        "not see is the same 404 as one that does not exist."
    ),
)
class DisputeDetailApi(generics.RetrieveAPIView):
    serializer_class = DisputeDetailSerializer

    def get_object(self):
        return selectors.dispute_get_for_user(self.request.user, self.kwargs["code"])


class DisputeTransitionApi(KnownParamsMixin, APIView):
    """Perform one workflow action. 409 when the action is not allowed from the current state."""

    class InputSerializer(KnownFieldsSerializer):
        action = serializers.CharField(
            help_text=gettext_lazy(
                "accept, decline, transfer, start, reassign, extend, record_prevention, report_risk "
                "(what was reported to which police station, in note), conclude, "
                "apply_confirmation, record_confirmation, follow_up, close"
            )
        )
        state = serializers.CharField(
            required=False,
            max_length=60,
            validators=[validate_form_state],
            help_text=format_lazy(
                "{}. {}",
                gettext_lazy(
                    "optional: the status as the client last saw it (e.g. registered); a step this user already "
                    "took from that status, nobody acting since, is answered as done (200) and not taken again "
                    "(a retry after a lost answer)"
                ),
                STATE_RICHER_HELP,
            ),
        )
        # The case page's limits (mediation/forms.py): a text the page refuses is refused here too.
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)
        organisation = serializers.IntegerField(
            required=False, help_text=pgettext_lazy("API field: the actions it is for", "accept / transfer")
        )
        mediator = serializers.IntegerField(
            required=False,
            help_text=gettext_lazy(
                "accept / reassign: user id; left out, the caller takes the case (a member "
                "accepting, or taking over in an organisation without a head: docs/mediation.md)"
            ),
        )
        suggested_route = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=200,
            help_text=pgettext_lazy("API field: the actions it is for", "decline"),
        )
        consent = serializers.BooleanField(
            required=False, help_text=gettext_lazy("extend: both parties consent")
        )
        outcome = serializers.ChoiceField(choices=DisputeCase.Outcome.choices, required=False)
        other_routes = serializers.ListField(
            child=serializers.ChoiceField(choices=DisputeCase.Route.choices), required=False
        )
        agreement_facts = serializers.CharField(required=False, allow_blank=True, max_length=AGREEMENT_MAX)
        agreement_terms = serializers.CharField(required=False, allow_blank=True, max_length=AGREEMENT_MAX)
        agreement_amount = serializers.DecimalField(
            max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0
        )
        performance_method = serializers.CharField(required=False, allow_blank=True, max_length=200)
        performance_due = serializers.DateField(required=False, allow_null=True)
        agreement_effective_on = serializers.DateField(required=False, allow_null=True)
        applied_on = serializers.DateField(
            required=False, help_text=pgettext_lazy("API field: the actions it is for", "apply_confirmation")
        )
        joint = serializers.BooleanField(
            required=False,
            help_text=gettext_lazy("apply_confirmation: true, both parties applied together (required)"),
        )
        result = serializers.ChoiceField(choices=["confirmed", "rejected"], required=False)
        decided_on = serializers.DateField(
            required=False,
            help_text=gettext_lazy("record_confirmation: the day the court decided (default today)"),
        )
        # A plain string (validated by the model): a second enum of the follow-up choices would give
        # the same choice set two names in the schema.
        performance = serializers.CharField(
            required=False, help_text=gettext_lazy("follow_up: performed, partly or not_performed")
        )
        escalation_prevented = serializers.BooleanField(required=False)
        escalation_persons = serializers.IntegerField(required=False, min_value=0, max_value=PERSONS_MAX)
        group_defused = serializers.BooleanField(required=False)
        group_persons = serializers.IntegerField(required=False, min_value=0, max_value=PERSONS_MAX)

    @extend_schema(
        request=InputSerializer,
        responses={200: DisputeDetailSerializer},
        summary=gettext_lazy("Take a step on a dispute case"),
        description=gettext_lazy(
            "Takes one workflow action (`action`, `note` and the action's own fields) and answers the case "
            "as it now is; sessions are recorded at `sessions/`. 409 when the action is not allowed from the "
            "current status (named), 403 when your role may not take it, 400 naming every wrong field, 404 "
            "for a case you may not see. With `state`, a step you already took from that status is answered "
            "as done."
        ),
    )
    def post(self, request, code: str):
        case = selectors.dispute_get_for_user(request.user, code, write=True)

        def take(v: dict) -> None:
            v = dict(v)
            action = v.pop("action")
            if action == "record_session":
                # Sessions carry their own fields: one endpoint for them, not two ways to do it. Keyed
                # by the field, as every validation error is (it came with a detail alone).
                where = _("Record a session with POST disputes/%(code)s/sessions/.") % {"code": code}
                raise serializers.ValidationError({"action": [where]})
            state = v.pop("state", "") or None  # a step this user already took from it: done, not retaken
            services.dispute_transition(
                case=case, actor=request.user, action=action, note=v.pop("note", ""), state=state, **v
            )

        def dry_run(read: dict) -> None:
            if read["action"] != "record_session":  # the input's own 400 already says where it goes
                take(read)

        # A value the input refuses (an amount of -5) is named with the step's own errors (no terms)
        # in one 400: the step is dry-run on the rest (``step_input``).
        take(step_input(
            self.InputSerializer(data=request.data), user=request.user, record=case, workflow=WORKFLOW,
            may_perform=may_perform, refusal=_("Your role may take no such step on this case."),
            dry_run=dry_run,
        ))  # fmt: skip
        # The answer is the case just changed, not a re-read through the caller's scope: a mediator
        # who transfers a case no longer sees it, and the committed transfer is no 404.
        return Response(DisputeDetailSerializer(case, context={"request": request}).data)


@extend_schema_view(
    get=extend_schema(
        summary=gettext_lazy("A case's mediation sessions"),
        description=gettext_lazy(
            "The mediation sessions of a case you may see, oldest first, paginated, their texts masked as "
            "the case's are. A case you may not see is a 404."
        ),
    )
)
class DisputeSessionListApi(KnownParamsMixin, generics.ListCreateAPIView):
    """The case's sessions, oldest first, paginated like every list (DESIGN.md section 7); POST
    records one (the first moves the case into mediation)."""

    serializer_class = SessionSerializer

    class InputSerializer(KnownFieldsSerializer):
        held_at = DateTimeField()
        place = serializers.CharField(max_length=200)
        attendees = serializers.CharField(max_length=400)
        summary = serializers.CharField(max_length=NOTE_MAX)
        next_step = serializers.CharField(required=False, allow_blank=True, max_length=400)
        submission = submission_field("session")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no case in the URL
            return DisputeSession.objects.none()
        case = selectors.dispute_get_for_user(self.request.user, self.kwargs["code"])
        self.case = case  # its rows' texts are read as its parties are (ReaderTextMixin)
        return selectors.dispute_sessions(case)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "case": getattr(self, "case", None)}

    @extend_schema(
        request=InputSerializer,
        responses={201: SessionSerializer},
        summary=gettext_lazy("Record a mediation session"),
        description=gettext_lazy(
            "Records a session (when, where, who attended, a summary) and answers it (201); the first moves "
            "an accepted case into mediation. The case's mediator only (others get 403); 409 when the case's "
            "status allows no session, 400 naming the field, 404 for a case you may not see. `submission` "
            "makes sending it again safe."
        ),
    )
    def post(self, request, code: str):
        case = selectors.dispute_get_for_user(request.user, code, write=True)
        data = self.InputSerializer(data=request.data)
        refusal = _("Your role may take no such step on this case.")
        try:
            v = step_input(
                data, user=request.user, record=case, workflow=WORKFLOW, may_perform=may_perform,
                refusal=refusal, action="record_session",
            )  # fmt: skip
        except serializers.ValidationError:
            # The service's checks (a time to come, or before the case came in) on what the input
            # could read, so one 400 names every error, as a registration's does.
            def check(read: dict) -> None:
                blank = {"held_at": None, "place": "", "attendees": "", "summary": ""}
                services.dispute_session_check(case=case, **{**blank, **read})

            raise serializers.ValidationError(service_checked_errors(data, check)) from None
        try:
            session = services.dispute_record_session(case=case, actor=request.user, **v)
        except ValidationError:
            # The service checks the fields (a time before the case came in) before the transition
            # checks who may record: a mediator who is not the case's got that 400, told what to fix
            # as if the session would then be theirs. A sender's own session sent again is returned
            # before either check, whoever holds the case now.
            if not may_take_step(
                request.user, case, workflow=WORKFLOW, may_perform=may_perform, action="record_session"
            ):
                raise PermissionDenied(refusal) from None
            raise
        return Response(SessionSerializer(session).data, status=status.HTTP_201_CREATED)


@extend_schema_serializer(
    description=gettext_lazy(
        "One step of a case's timeline; its note is masked as the case's texts are, but for the assigned "
        "mediator and the organisation head."
    )
)
class EventSerializer(ReaderTextMixin, serializers.ModelSerializer):
    text_fields = ("note",)
    actor = serializers.CharField(source="actor.__str__", read_only=True)
    action_label = serializers.CharField(read_only=True)
    organisation = serializers.CharField(
        source="organisation.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = DisputeEvent
        fields = [
            "id",
            "at",
            "actor",
            "action",
            "action_label",
            "from_status",
            "to_status",
            "note",
            "organisation",
        ]
        read_only_fields = fields


@extend_schema(
    summary=gettext_lazy("A case's timeline"),
    description=gettext_lazy(
        "The steps taken on a case you may see, oldest first, paginated, their notes masked as the case's "
        "texts are. A case you may not see is a 404."
    ),
)
class DisputeEventListApi(KnownParamsMixin, generics.ListAPIView):
    """The case's timeline, oldest first."""

    serializer_class = EventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no case in the URL
            return DisputeEvent.objects.none()
        case = selectors.dispute_get_for_user(self.request.user, self.kwargs["code"])
        self.case = case  # its rows' texts are read as its parties are (ReaderTextMixin)
        return selectors.dispute_events(case)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "case": getattr(self, "case", None)}


class DisputePartyRevealApi(KnownParamsMixin, APIView):
    """Unmask one party for the assigned mediator or the organisation head; the reveal is logged with
    its reason. Others get 403 (they may see the case, masked)."""

    class InputSerializer(KnownFieldsSerializer):
        reason = serializers.CharField(max_length=500)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer(
                "RevealedParty",
                {
                    "id": serializers.IntegerField(),
                    "role": serializers.CharField(),
                    "name": serializers.CharField(),
                    "id_number": serializers.CharField(),
                    "phone": serializers.CharField(),
                    "address": serializers.CharField(),
                },
            )
        },
        summary=gettext_lazy("Reveal a party's personal data"),
        description=gettext_lazy(
            "Answers one party's name, ID number, phone and address in full, to the case's assigned mediator "
            "and its organisation head only: others get 403, though they may read the case masked. `reason` "
            "is required; the reveal is logged with it. A case you may not see, or an unknown party, is a 404."
        ),
    )
    def post(self, request, code: str, party_id: int):
        case = selectors.dispute_get_for_user(request.user, code)
        party = get_visible_or_404(case.parties.all(), pk=party_id)
        if not may_reveal(request.user, case):
            # Before the input is read: a refused caller learns nothing from a 400 either.
            raise PermissionDenied(
                _("Only the assigned mediator and the organisation head may see parties' personal data.")
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        revealed = services.party_reveal(
            case=case,
            party=party,
            actor=request.user,
            reason=data.validated_data["reason"],
            ip_address=client_ip(request),
        )
        return Response(revealed)
