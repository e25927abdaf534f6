"""REST API of petitions (DESIGN.md section 7): list/register, detail, transition, and a reveal of
one petitioner's identity (for the officers handling the item, logged).

Petitioners are masked in every response except the reveal's; users of the unit complained about
get no petitioner details at all, only how many there are."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
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
    KnownFieldsSerializer,
    provisional_due_years_field,
    service_checked_errors,
    step_input,
    step_state_field,
    submission_field,
)
from governance.services import client_ip
from governance.workflow import validate_form_state
from petitions import selectors, services
from petitions.filters import PetitionFilter
from petitions.forms import CONTENT_MAX, NOTE_MAX
from petitions.models import (
    WORKFLOW,
    Category,
    Petition,
    allowed_actions,
    may_perform,
    may_reveal,
    repeat_link_hidden,
    sees_masked_only,
)


def _one_of(choices) -> str:
    """A read-only field's description: the codes it can hold."""
    return format_lazy(gettext_lazy("one of: {codes}"), codes=", ".join(choices.values))


class MaskedPetitionerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="masked_name")
    id_number = serializers.CharField(source="masked_id_number")
    phone = serializers.CharField(source="masked_phone")
    address = serializers.CharField(source="masked_address")


class PetitionSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="handling_type", read_only=True)
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)
    # Nullable read-only fields say so: DRF drops the model's null=True for read-only fields, and the
    # schema then promised a department and a unit a new petition does not have.
    department = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    department_name = serializers.CharField(
        source="department.name", read_only=True, default=None, allow_null=True
    )
    complained_unit = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    repeat_of = serializers.SerializerMethodField()
    # Plain strings in the schema: "status" and "evaluation" enums of other apps share these field
    # names, and the value lists are given in the help text (the model's table validates them).
    status = serializers.CharField(read_only=True, help_text=_one_of(Petition.Status))
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    petitioners = serializers.SerializerMethodField()
    provisional_due_years = provisional_due_years_field()

    class Meta:
        model = Petition
        list_serializer_class = CalendarListSerializer
        fields = [
            "code", "channel", "received_at", "type", "category", "content", "area", "area_name",
            "persons_count", "is_group", "is_repeat", "repeat_of", "complained_unit", "department",
            "department_name", "status", "status_label", "due_at", "overdue", "route_due_at",
            "acknowledge_due_at", "return_due_at", "reply_due_at", "extended_days",
            "review_request_until", "review_due_at", "re_review_request_until", "re_review_due_at",
            "provisional_due_years", "closed_for_good", "petitioners",
        ]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, obj: Petition) -> dict:
        """The content, reply and notes as typed for those who may reveal the petitioners; with the
        identity and phone numbers in them masked for everyone else (the unit complained about read
        the petitioner's ID number in their letter while the petitioners list was hidden from it)."""
        data = super().to_representation(obj)
        request = self.context.get("request")
        if request is not None and not may_reveal(request.user, obj):
            people = list(obj.petitioners.all())
            # The unit complained about, shown no petitioner, reads none of their details masked.
            hide = sees_masked_only(request.user, obj)
            pii.mask_text_fields(data, ("content", "reply_text", "extension_reason"), people, hide=hide)
            for event in data.get("events") or []:
                pii.mask_text_fields(event, ("note",), people, hide=hide)
        return data

    @extend_schema_field({"type": "string", "nullable": True})
    def get_repeat_of(self, obj: Petition) -> str | None:
        """Number of the earlier petition this repeats; null for the unit complained about at either
        end: a repeat is the same person, so the link would name, through a petition the unit
        handles, who complained about it."""
        request = self.context.get("request")
        if obj.repeat_of_id is None or (request is not None and repeat_link_hidden(request.user, obj)):
            return None
        return obj.repeat_of.code

    @extend_schema_field(MaskedPetitionerSerializer(many=True))
    def get_petitioners(self, obj: Petition) -> list[dict]:
        """Masked petitioners; for users of the unit complained about, none at all (they read the
        content and ``persons_count``, never who came)."""
        request = self.context.get("request")
        people = list(obj.petitioners.all())
        if request is not None and sees_masked_only(request.user, obj):
            return []
        return MaskedPetitionerSerializer(people, many=True).data


class PetitionDetailSerializer(PetitionSerializer):
    evaluation = serializers.CharField(read_only=True, help_text=_one_of(Petition.Evaluation))
    redirect_route = serializers.CharField(
        read_only=True,
        help_text=format_lazy(
            gettext_lazy(
                "the legal route a redirected claim (or a claim the department declined) belongs to: {codes}"
            ),
            codes=", ".join(Petition.Route.values),
        ),
    )
    reply_opinion = serializers.CharField(
        read_only=True,
        help_text=format_lazy(
            gettext_lazy("a claim's: {opinions}; a suggestion's: {adoptions}; blank for a report"),
            opinions=", ".join(Petition.Opinion.values),
            adoptions=", ".join(Petition.Adoption.values),
        ),
    )
    review_decision = serializers.CharField(read_only=True, help_text=_one_of(Petition.Decision))
    re_review_decision = serializers.CharField(read_only=True, help_text=_one_of(Petition.Decision))
    actions = serializers.SerializerMethodField(help_text=ACTIONS_HELP)
    likely_repeats = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "For the office, numbers of earlier petitions this one likely repeats (to link_repeat)."
        )
    )
    events = serializers.SerializerMethodField()
    step_state = step_state_field()

    class Meta(PetitionSerializer.Meta):
        fields = [
            *PetitionSerializer.Meta.fields,
            "registered_at", "routed_at", "redirect_route", "accepted_at", "extension_reason",
            "replied_at", "reply_opinion", "reply_text", "evaluation", "evaluated_at",
            "review_requested_at", "reviewed_at", "review_decision", "re_review_requested_at",
            "re_reviewed_at", "re_review_decision", "closed_at", "actions", "likely_repeats", "events",
            "step_state",
        ]  # fmt: skip
        read_only_fields = fields

    def get_actions(self, obj: Petition) -> list[str]:
        """The actions the requesting user may take now."""
        return allowed_actions(self.context["request"].user, obj)

    def get_likely_repeats(self, obj: Petition) -> list[str]:
        """For the office, numbers of earlier petitions this one likely repeats (to link_repeat)."""
        if "link_repeat" not in allowed_actions(self.context["request"].user, obj):
            return []
        return list(
            services.likely_repeats_of(obj, user=self.context["request"].user).values_list("code", flat=True)[
                :10
            ]
        )

    @extend_schema_field(
        inline_serializer(
            "PetitionEvent",
            {
                "at": serializers.DateTimeField(),
                "actor": serializers.CharField(),
                "action": serializers.CharField(),
                "from_status": serializers.CharField(),
                "to_status": serializers.CharField(),
                "note": serializers.CharField(),
                "from_type": serializers.CharField(
                    allow_null=True,
                    help_text=gettext_lazy("correct_type: the handling type before; null otherwise"),
                ),
                "to_type": serializers.CharField(
                    allow_null=True,
                    help_text=gettext_lazy("correct_type: the handling type after; null otherwise"),
                ),
                "department": serializers.CharField(
                    allow_null=True,
                    help_text=gettext_lazy("the department the petition was with after the step, by name"),
                ),
                "from_department": serializers.CharField(
                    allow_null=True,
                    help_text=gettext_lazy(
                        "reroute: the department (with nobody left) it was taken from; null otherwise"
                    ),
                ),
                "result": serializers.CharField(
                    allow_null=True,
                    help_text=gettext_lazy(
                        "what the step recorded: evaluate, the evaluation; reply, the opinion (blank "
                        "for a report: null); decide_review and decide_re_review, the decision; redirect, the "
                        "legal route; decline, the legal route a claim belongs to, when named; null otherwise"
                    ),
                ),
                "extended_days": serializers.IntegerField(
                    allow_null=True,
                    help_text=gettext_lazy("extend: the days added to the reply time limit; null otherwise"),
                ),
            },
            many=True,
        )
    )
    def get_events(self, obj: Petition) -> list[dict]:
        at = serializers.DateTimeField()  # local time, as every other time of the answer
        return [
            {
                "at": at.to_representation(e.at),
                "actor": str(e.actor),
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "from_type": e.from_type,
                "to_type": e.to_type,
                "department": e.department.name if e.department_id else None,
                "from_department": e.data.get("from_department_name") if e.action == "reroute" else None,
                "result": e.result,
                "extended_days": e.extended_by,
            }
            for e in selectors.petition_events(obj)
        ]


class PetitionerInputSerializer(KnownFieldsSerializer):
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=18)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    address = serializers.CharField(required=False, allow_blank=True, max_length=300)


def _register_kwargs(v: dict[str, Any]) -> dict[str, Any]:
    """The register service's arguments from the input's values: all of them, or what a refused input
    could read (a refused field is passed as missing)."""
    return {
        "channel": v.get("channel", ""),
        "received_at": v.get("received_at"),
        "handling_type": v.get("type", Petition.HandlingType.CLAIM),
        "category": v.get("category", ""),
        "content": v.get("content", ""),
        "area": v.get("area", ""),
        "persons_count": v.get("persons_count"),
        "petitioners": [dict(p) for p in v.get("petitioners", [])],
        "complained_unit": v.get("complained_unit"),
        "repeat_of": v.get("repeat_of") or None,
    }


def _register_check(actor: Any, v: dict[str, Any]) -> None:
    """``petition_register_check`` on what a refused input could read, its errors keyed as the input
    is. The service leaves blank rows out and numbers the rest, and a row is blank to it when the
    input refused all it had (a null row, a name too long): the rows after it would have been named
    one too low, so the service gets only the rows with something in them, and their own numbers back."""
    kwargs = _register_kwargs(v)
    rows = kwargs["petitioners"]
    sent = [i for i, row in enumerate(rows) if any(str(value or "").strip() for value in row.values())]
    kwargs["petitioners"] = [rows[i] for i in sent]
    try:
        services.petition_register_check(actor=actor, **kwargs)
    except DjangoValidationError as exc:
        raise DjangoValidationError({_input_key(k, sent): m for k, m in exc.message_dict.items()}) from None


def _input_key(key: str, sent: list[int]) -> str:
    """The input's name of a service error's field: ``type`` for ``handling_type``, and a petitioner's
    row numbered as it was sent."""
    if key == "handling_type":
        return "type"
    row = re.fullmatch(r"petitioners\[(\d+)\](.*)", key)
    return f"petitioners[{sent[int(row[1])]}]{row[2]}" if row else key


@extend_schema_view(
    get=extend_schema(
        summary=gettext_lazy("List petitions"),
        description=gettext_lazy(
            "The petitions you may see, most recently received first, paginated: petition officers (and "
            "administrators) those of their area; department users the items routed to their department "
            "or complaining about it. Other roles, analysts included, see none. Petitioners are masked, "
            "and the unit complained about sees none of them."
        ),
    )
)
class PetitionListApi(KnownParamsMixin, generics.ListAPIView):
    """Petitions visible to the user (officers: their area; departments: items routed to them or
    complaining about them). POST registers one (petition officers)."""

    serializer_class = PetitionSerializer
    filterset_class = PetitionFilter
    params = tuple(PetitionFilter.base_filters)

    class InputSerializer(KnownFieldsSerializer):
        channel = serializers.ChoiceField(choices=Petition.Channel.choices)
        received_at = DateTimeField(required=False)
        type = serializers.ChoiceField(
            choices=Petition.HandlingType.choices, required=False, default=Petition.HandlingType.CLAIM
        )
        category = serializers.ChoiceField(choices=Category.choices)
        content = serializers.CharField(max_length=CONTENT_MAX)
        area = serializers.CharField(help_text=gettext_lazy("area code (any level) the petition concerns"))
        persons_count = serializers.IntegerField(required=False, min_value=1, max_value=100000)
        petitioners = PetitionerInputSerializer(
            many=True,
            help_text=gettext_lazy(
                "a visit: at most 5 (group representatives); a letter, call or message: up to 50"
            ),
        )
        complained_unit = serializers.IntegerField(
            required=False, allow_null=True, help_text=gettext_lazy("department id")
        )
        repeat_of = serializers.CharField(
            required=False,
            allow_blank=True,
            help_text=gettext_lazy("number of the earlier petition this repeats"),
        )
        submission = submission_field("registration")

    def get_queryset(self):
        return selectors.petition_list(self.request.user)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: PetitionSerializer,
            409: OpenApiResponse(
                description=gettext_lazy(
                    "sent again with the key of a petition saved already that is no longer in "
                    "the sender's area (names its number only)"
                )
            ),
        },
        summary=gettext_lazy("Register a petition"),
        description=gettext_lazy(
            "Registers a petition with its petitioners and answers it (201). Petition officers only; other "
            "roles get 403. Every error is named in one 400 (a petitioner's as `petitioners[0].phone`) and "
            "nothing is saved; `submission` makes sending it again safe."
        ),
    )
    def post(self, request):
        if not services.may_register(request.user):  # a read-only role: 403 whatever it sent
            raise PermissionDenied(_("Only petition officers register petitions."))
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            # The service's checks (area, receipt time, persons, ID numbers, phones ...) run too, on
            # what the input could read: they came only in a second 400, once the first was fixed.
            # The check saves nothing and takes no number.
            raise serializers.ValidationError(
                service_checked_errors(data, lambda v: _register_check(request.user, v))
            )
        v = data.validated_data
        petition = services.petition_register(
            actor=request.user, submission=v.get("submission"), **_register_kwargs(v)
        )
        if petition.repeat_of_id:
            # The link is taken only when a typed ID number or phone matches the earlier petition's
            # petitioners: the 201 says so as surely as the page's repeat check, which logs it.
            services.log_repeat_matches(
                actor=request.user, matches=[petition.repeat_of], ip_address=client_ip(request)
            )
        gone = selectors.registered_out_of_reach(request.user, petition)
        if gone:
            raise Conflict(gone)
        petition = selectors.petition_get_for_user(request.user, petition.code)
        return Response(
            PetitionSerializer(petition, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


@extend_schema(
    summary=gettext_lazy("Read a petition"),
    description=gettext_lazy(
        "One petition you may see, with its reply, evaluation, reviews, its events and the actions you may "
        "take on it now (`actions`); petitioners masked as in the list. A petition you may not see is the "
        "same 404 as one that does not exist."
    ),
)
class PetitionDetailApi(generics.RetrieveAPIView):
    serializer_class = PetitionDetailSerializer

    def get_object(self):
        return selectors.petition_get_for_user(self.request.user, self.kwargs["code"])


class PetitionTransitionApi(KnownParamsMixin, APIView):
    """Perform one workflow action; 409 (naming the current state) when the table does not allow it
    from there, 403 when the user's side (office / department) may not, 400 naming the field."""

    class InputSerializer(KnownFieldsSerializer):
        action = serializers.ChoiceField(choices=WORKFLOW.actions)
        state = serializers.CharField(
            required=False,
            max_length=60,
            validators=[validate_form_state],
            help_text=format_lazy(
                "{}. {}",
                gettext_lazy(
                    "optional: the status as the client last saw it (e.g. routed); a step this user already "
                    "took from that status, nobody acting since, is answered as done (200) and not taken again "
                    "(a retry after a lost answer)"
                ),
                STATE_RICHER_HELP,
            ),
        )
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)
        department = serializers.IntegerField(
            required=False, help_text=gettext_lazy("assign / reroute: department id")
        )
        route = serializers.ChoiceField(
            choices=Petition.Route.choices,
            required=False,
            help_text=gettext_lazy(
                "redirect; decline (optional, a claim only): the legal route the claim belongs to"
            ),
        )
        days = serializers.IntegerField(required=False, help_text=gettext_lazy("extend: 1-30, once only"))
        approver = serializers.CharField(
            required=False, help_text=gettext_lazy("extend: approver's username")
        )
        notified = serializers.BooleanField(
            required=False,
            help_text=gettext_lazy("extend: true once the petitioner has been told of it and its reason"),
        )
        requested_at = DateTimeField(
            required=False,
            help_text=gettext_lazy("request_review: when the request was received (default: now)"),
        )
        opinion = serializers.ChoiceField(
            choices=[*Petition.Opinion.choices, *Petition.Adoption.choices],
            required=False,
            allow_blank=True,
            help_text=gettext_lazy(
                "reply: a claim's opinion (support, explain, not_support), a suggestion's adoption "
                "(adopted, part_adopted, not_adopted), none for a report"
            ),
        )
        text = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=CONTENT_MAX,
            help_text=gettext_lazy("reply: the written opinion"),
        )
        evaluation = serializers.CharField(
            required=False,
            help_text=format_lazy(
                gettext_lazy("evaluate: {codes}"), codes=", ".join(Petition.Evaluation.values)
            ),
        )
        decision = serializers.ChoiceField(
            choices=Petition.Decision.choices,
            required=False,
            help_text=pgettext_lazy("API field: the actions it is for", "decide_review / decide_re_review"),
        )
        repeat_of = serializers.CharField(
            required=False,
            max_length=20,
            help_text=gettext_lazy("link_repeat: number of the earlier petition"),
        )
        type = serializers.ChoiceField(
            choices=Petition.HandlingType.choices,
            required=False,
            help_text=gettext_lazy("correct_type: the corrected handling type (its reason in note)"),
        )

    @extend_schema(
        request=InputSerializer,
        responses={200: PetitionDetailSerializer},
        summary=gettext_lazy("Take a step on a petition"),
        description=gettext_lazy(
            "Takes one workflow action (`action`, `note` and the action's own fields) and answers the "
            "petition as it now is, with its events. 409 when the action is not allowed from the current "
            "status (named), 403 when your side (petition office or department) may not take it, 400 naming "
            "every wrong field, 404 for a petition you may not see. With `state`, a step you already took "
            "from that status is answered as done."
        ),
    )
    def post(self, request, code: str):
        petition = selectors.petition_get_for_user(request.user, code, write=True)  # 403 before the input

        def take(v: dict) -> None:
            v = dict(v)
            action = v.pop("action")
            state = v.pop("state", "") or None  # a step this user already took from it: done, not retaken
            services.petition_transition(
                petition=petition, actor=request.user, action=action, note=v.pop("note", ""), state=state, **v
            )

        # A value the input refuses (an opinion not on the list) is named with the step's own errors
        # (no reply written) in one 400: the step is dry-run on the rest (``step_input``).
        take(step_input(
            self.InputSerializer(data=request.data), user=request.user, record=petition, workflow=WORKFLOW,
            may_perform=may_perform, refusal=_("Your role may take no such step on this petition."),
            dry_run=take,
        ))  # fmt: skip
        # The answer is the petition just changed, not a re-read through the caller's scope: a
        # department that returns an item no longer sees it, and the committed return is no 404.
        return Response(PetitionDetailSerializer(petition, context={"request": request}).data)


class PetitionerRevealApi(KnownParamsMixin, APIView):
    """Unmask one petitioner for an officer handling the item; logged with its reason. Others get
    403 (they may see the petition, masked)."""

    class InputSerializer(KnownFieldsSerializer):
        reason = serializers.CharField(max_length=500)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer(
                "RevealedPetitioner",
                {
                    "name": serializers.CharField(),
                    "id_number": serializers.CharField(),
                    "phone": serializers.CharField(),
                    "address": serializers.CharField(),
                },
            )
        },
        summary=gettext_lazy("Reveal a petitioner's personal data"),
        description=gettext_lazy(
            "Answers one petitioner's name, ID number, phone and address in full, to the officers handling "
            "the petition only: others get 403, though they may read the petition masked. `reason` is "
            "required; the reveal is logged with it. A petition you may not see, or an unknown petitioner, "
            "is a 404."
        ),
    )
    def post(self, request, code: str, petitioner_id: int):
        petition = selectors.petition_get_for_user(request.user, code)
        if not may_reveal(request.user, petition):
            # Before the input is read, and before the petitioner is looked up: a refused caller
            # learns nothing from a 400, nor, from a 404 for another number, which petitioner rows
            # belong to a complaint whose petitioners it is not shown at all.
            raise PermissionDenied(_("Only the officers handling this petition may see who brought it."))
        person = get_visible_or_404(petition.petitioners.all(), pk=petitioner_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        revealed = services.petitioner_reveal(
            petition=petition,
            petitioner=person,
            actor=request.user,
            reason=data.validated_data["reason"],
            ip_address=client_ip(request),
        )
        return Response(revealed)
