"""Forms of the mediation pages: validation of input only; the services decide and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.forms import SubmissionKeyForm, personal_input
from governance.models import record_id
from governance.workflow import validate_form_state
from mediation.models import PERSONS_MAX, DisputeCase, DisputeCategory, DisputeParty, acting_members

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

PARTY_SLOTS = 3  # the register form offers three party rows; more can be added via the API


def organisation_choices(organisations, label=lambda o: o.name) -> list[tuple[str, str]]:
    """(pk, label) of ``organisations`` for a select, those with no member who can act said so: a
    referrer sent a case to a committee whose people had all left, and only the administrators were
    told afterwards (they may still be chosen: the administrators give it members). One query."""
    organisations = list(organisations)
    staffed = set(
        acting_members({o.pk for o in organisations}).values_list("organisation_id", flat=True).distinct()
    )
    return [
        (
            str(o.pk),
            label(o)
            if o.pk in staffed
            else _("%(name)s (nobody there to take cases yet)") % {"name": label(o)},
        )
        for o in organisations
    ]


# Limits of the free texts (a case's description, a session's summary, a step's note, an agreement),
# on the pages and in the API alike: longer is a pasted document, not a record.
NOTE_MAX = 4000
AGREEMENT_MAX = 8000


class RegisterForm(SubmissionKeyForm):
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=DisputeCategory.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("Choose a category"),
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": _("Unknown category; choose one from the list."),
        },
    )
    origin = forms.ChoiceField(
        label=_("Source"),
        choices=[c for c in DisputeCase.Origin.choices if c[0] != DisputeCase.Origin.GRID_INCIDENT],
    )
    referral_reference = forms.CharField(label=_("Referring record (number)"), required=False, max_length=60)
    # A typed code (12 digits a community, 15 a grid), or one picked from the datalist of the places in
    # the user's scope that the register page puts beside it (list="area-choices").
    area = forms.CharField(
        label=_("Grid or community code"),
        max_length=15,
        help_text=_("Type the code, or part of the name and pick from the list."),
        error_messages={"required": _("Give the grid or community where the dispute arose.")},
        widget=forms.TextInput(attrs={"list": "area-choices", "autocomplete": "off", "spellcheck": "false"}),
    )
    organisation = forms.ChoiceField(
        label=_("Organisation"),
        required=False,
        error_messages={"invalid_choice": _("Unknown organisation %(value)s, or it is outside your area.")},
    )
    description = forms.CharField(
        label=_("What is the dispute about?"),
        max_length=AGREEMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Describe the dispute.")},
    )
    # Yuan and fen, as the case stores it: a third decimal passed here and was refused by the model
    # only once every other field was right, in a second round.
    amount = forms.DecimalField(
        label=_("Amount in dispute (yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    # The API's bound: a larger number passed here and the database's integer range refused it only
    # once every other field was right.
    persons_involved = forms.IntegerField(
        label=_("People involved"), required=False, min_value=1, max_value=PERSONS_MAX
    )
    risk_violence = forms.BooleanField(label=_("May turn violent"), required=False)
    risk_group = forms.BooleanField(label=_("Group dispute"), required=False)
    received_at = forms.DateTimeField(
        label=_("Received at"), required=False, widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
    )

    def __init__(self, *args, organisations=(), allowed=None, own=(), **kwargs) -> None:
        """``organisations`` are those the page lists (at most a few hundred, maybe narrowed by a
        filter); ``allowed``, a queryset, all that the user may choose; ``own``, the ids of the
        user's own organisations. One of ``allowed`` that is chosen (posted, or kept from the form as
        typed) is offered too, so it is accepted and stays selected when the form comes back: a
        referrer's choice past the listed ones was refused as "not one of the available choices"."""
        super().__init__(*args, **kwargs)
        organisations = list(organisations)
        chosen = (self.data if self.is_bound else self.initial).get(self.add_prefix("organisation"))
        chosen_id = record_id(chosen) if chosen not in (None, "") else None
        if chosen_id is not None and allowed is not None and all(o.pk != chosen_id for o in organisations):
            organisations = [*allowed.filter(pk=chosen_id)[:1], *organisations]
        # A handler has no organisation of their own: "my organisation" would be a dead end. A user
        # with one organisation gets it once, by name: "my organisation" (the empty choice, which the
        # registration reads as that one) sat above the same committee. Listed first, it is chosen
        # until a referrer picks another; filtered out of the list, the empty choice leads back to it.
        empty = _("— my organisation —") if own else _("Choose the organisation")
        sole = len(own) == 1 and any(o.pk in own for o in organisations)
        if sole:
            organisations.sort(key=lambda o: o.pk not in own)  # stable: the rest keep their order
            self.fields["organisation"].initial = str(next(iter(own)))
        self.fields["organisation"].choices = [
            *([] if sole else [("", empty)]),
            *organisation_choices(organisations),
        ]
        for i in range(PARTY_SLOTS):
            required = i < 2
            self.fields[f"party{i}_role"] = forms.ChoiceField(
                label=_("Role"),
                choices=DisputeParty.PartyRole.choices,
                initial=["applicant", "respondent", "other"][i],
                required=required,
            )
            self.fields[f"party{i}_name"] = forms.CharField(
                label=pgettext_lazy("person", "Name"),
                max_length=100,
                required=required,
                widget=personal_input(),
                error_messages={"required": _("Give the party's name.")},
            )
            self.fields[f"party{i}_id_number"] = forms.CharField(
                label=_("ID number"), max_length=18, required=False, widget=personal_input()
            )
            self.fields[f"party{i}_phone"] = forms.CharField(
                label=_("Phone"), max_length=20, required=False, widget=personal_input()
            )
            self.fields[f"party{i}_address"] = forms.CharField(
                label=_("Address"), max_length=300, required=False, widget=personal_input()
            )

    def party_rows(self) -> list[list]:
        return [
            [self[f"party{i}_{f}"] for f in ("role", "name", "id_number", "phone", "address")]
            for i in range(PARTY_SLOTS)
        ]

    def parties(self) -> list[dict]:
        d = self.cleaned_data
        out = []
        for i in range(PARTY_SLOTS):
            # A row is left out only when nothing was typed in it (the role always has a value): a
            # phone or ID number without a name is an error to show, not data to drop. The two
            # required rows always count (a valid form has both), so that checking an invalid form
            # reports their errors at their own fields.
            fields = ("name", "id_number", "phone", "address")
            if i >= 2 and not any(d.get(f"party{i}_{f}") for f in fields):
                continue
            out.append(
                {f: d.get(f"party{i}_{f}", "") for f in ("role", "name", "id_number", "phone", "address")}
            )
        return out

    def service_kwargs(self) -> dict:
        """What ``services.dispute_register`` takes, from what the form could read: a field the form
        refused is passed as missing, and its service error is then dropped (``add_service_error``)."""
        d = self.cleaned_data
        return {
            "category": d.get("category"),
            "area": (d.get("area") or "").strip(),
            "origin": d.get("origin", ""),
            "description": d.get("description", ""),
            "parties": self.parties(),
            "received_at": d.get("received_at"),
            "organisation": d.get("organisation") or None,
            "referral_reference": d.get("referral_reference", ""),
            "amount": d.get("amount"),
            "persons_involved": d.get("persons_involved"),
            "risk_violence": d.get("risk_violence", False),
            "risk_group": d.get("risk_group", False),
        }

    def add_service_error(self, field: str, message: str) -> None:
        """Map a service error key (``parties[1].id_number``) onto this form's field names. A field
        the form has already flagged keeps its own message: the service only saw it as missing."""
        if field.startswith("parties[") and "]." in field:
            index, name = field[len("parties[") :].split("].", 1)
            field = f"party{index}_{name}"
        if field == "source":
            field = "origin"
        target = field if field in self.fields else None
        if target is not None and target in self.errors:
            return
        self.add_error(target, message)


class ActionForm(forms.Form):
    """The fields any workflow action may carry; which ones an action needs is the model's business."""

    # Labelled as on the case page: a refused step's banner names each field (governance.forms.errors_text).
    action = forms.CharField(max_length=24)
    # The case's status when the form was drawn: a form sent twice is answered as done, not a 409.
    state = forms.CharField(required=False, max_length=60, validators=[validate_form_state])
    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX)
    organisation = forms.IntegerField(label=_("Organisation"), required=False)
    mediator = forms.IntegerField(label=_("Mediator"), required=False)
    suggested_route = forms.CharField(label=_("Route suggested"), required=False, max_length=200)
    consent = forms.BooleanField(label=_("Both parties consent to extending the time limit"), required=False)
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", "")] + DisputeCase.Outcome.choices
    )
    other_routes = forms.MultipleChoiceField(
        label=_("Other routes the parties were told of"), required=False, choices=DisputeCase.Route.choices
    )
    agreement_facts = forms.CharField(
        label=_("Facts and responsibilities"), required=False, max_length=AGREEMENT_MAX
    )
    agreement_terms = forms.CharField(label=_("Terms agreed"), required=False, max_length=AGREEMENT_MAX)
    agreement_amount = forms.DecimalField(
        label=_("Amount agreed (yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    performance_method = forms.CharField(label=_("How it is carried out"), required=False, max_length=200)
    performance_due = forms.DateField(label=_("Carried out by"), required=False)
    agreement_effective_on = forms.DateField(
        label=_("Agreement effective on (signed and sealed)"), required=False
    )
    applied_on = forms.DateField(label=_("Applied to the court on"), required=False)
    joint = forms.BooleanField(label=_("Both parties applied to the court together"), required=False)
    decided_on = forms.DateField(label=_("Court decided on"), required=False)
    result = forms.ChoiceField(
        label=_("Court decision"),
        required=False,
        choices=[("", ""), ("confirmed", "confirmed"), ("rejected", "rejected")],
    )
    performance = forms.ChoiceField(
        label=_("Agreement performed?"), required=False, choices=[("", "")] + DisputeCase.FollowUp.choices
    )
    escalation_prevented = forms.BooleanField(label=_("Criminal escalation prevented"), required=False)
    escalation_persons = forms.IntegerField(
        label=_("Criminal escalation prevented"), required=False, min_value=0, max_value=PERSONS_MAX
    )
    group_defused = forms.BooleanField(label=_("Group dispute defused"), required=False)
    group_persons = forms.IntegerField(
        label=_("Group dispute defused"), required=False, min_value=0, max_value=PERSONS_MAX
    )

    def action_fields(self) -> dict:
        """Only the fields that were given, so the model sees what the user actually sent."""
        data = self.cleaned_data
        # Unticked boxes (False) and empty fields are "not sent"; a number 0 is sent: an agreement
        # for no money says so (``0 in (False,)`` is true in Python, so False is tested by identity).
        out = {
            k: v
            for k, v in data.items()
            if k not in ("action", "note", "state") and v is not False and v not in (None, "", [])
        }
        for box in ("consent", "joint"):
            if self.data.get(box) is not None:
                out[box] = bool(data.get(box))
        return out


class SessionForm(SubmissionKeyForm):
    held_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=DATETIME_WIDGET,
        input_formats=DATETIME_FORMATS,
        error_messages={"required": _("Give the date and time of the session.")},
    )
    # Missing fields get the service's messages (``services.dispute_session_check``), which say what
    # to give, as the API's do.
    place = forms.CharField(
        label=_("Place"), max_length=200, error_messages={"required": _("Where was the session held?")}
    )
    # Free text is read by everyone who may read the case, unmasked: the form asks for roles, since the
    # parties' names are kept (encrypted, masked, revealed with a log) in the parties list.
    attendees = forms.CharField(
        label=_("Attendees"),
        max_length=400,
        widget=forms.TextInput(attrs={"placeholder": _("by role: both parties, mediator, a lawyer")}),
        error_messages={"required": _("Who attended?")},
    )
    summary = forms.CharField(
        label=pgettext_lazy("mediation session", "Summary"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Summarise the session.")},
    )
    next_step = forms.CharField(label=_("Next step"), max_length=400, required=False)


class RevealForm(forms.Form):
    reason = forms.CharField(label=_("Why do you need to see this?"), max_length=500)


class IncidentConvertForm(forms.Form):
    # An unknown category or organisation is named as on the register page (Django's "Select a valid
    # choice" said neither which list nor why).
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=DisputeCategory.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("Choose a category"),
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": RegisterForm.base_fields["category"].error_messages["invalid_choice"],
        },
    )
    organisation = forms.ChoiceField(
        label=_("Organisation that takes the case"),
        error_messages={
            "required": _("Choose the organisation that takes the case."),
            "invalid_choice": RegisterForm.base_fields["organisation"].error_messages["invalid_choice"],
        },
    )

    def __init__(self, *args, organisations=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [
            ("", _("Choose the organisation")),
            *organisation_choices(organisations, lambda o: f"{o.name} · {o.area.name}"),
        ]
        if len(organisations) == 1:  # the one organisation that serves the grid: nothing to choose
            self.fields["organisation"].initial = organisations[0].pk


class PartyForm(forms.Form):
    """Completing or correcting a party: blank fields keep the stored value; ``clear`` removes the
    optional ones entered by mistake."""

    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", "")] + DisputeParty.PartyRole.choices
    )
    name = forms.CharField(label=pgettext_lazy("person", "Name"), required=False, max_length=100)
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=18)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=20)
    address = forms.CharField(label=_("Address"), required=False, max_length=300)
    clear = forms.MultipleChoiceField(
        label=_("Remove stored details"),
        required=False,
        choices=[("id_number", _("ID number")), ("phone", _("Phone")), ("address", _("Address"))],
    )
