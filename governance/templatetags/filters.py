"""``{% filters_summary params values filter_labels %}``: the <summary> of a list's folded filter
form (governance/_filters_summary.html; each list wraps its form in ``<details class="filters-fold">``),
naming the filters ``params`` sets, in the order given, with their values where the view knows them."""

from django import forms, template
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from governance.api import KnownRecordMixin

register = template.Library()

AS_TYPED = None  # in ``values``: the filter's value is shown as sent (a date)


@register.inclusion_tag("governance/_filters_summary.html")
def filters_summary(params, values, labels) -> dict:
    """``labels`` maps each query parameter to the label of its field, in the order the summary
    names them: the view's own mapping, which also names a refused filter in its message
    (``governance.views.filtered_rows``), so that the two never say it differently. A parameter
    counts when any of its values is not empty ("any" is an empty value). Not for an order
    (``sort``): it hides no row, and the form sends the default order every time.

    ``values`` maps a parameter to the labels of its values (``{"category": {"sanitation": "…"}}``,
    built by ``summary_values`` without a query of its own) or to ``AS_TYPED``; a value it does not
    name (a flag set to "true" such as "Overdue", a code the filter refused) leaves the filter named
    by its label alone."""
    active = [_named(key, label, chosen, values or {}) for key, label, chosen in _in_force(params, labels)]
    return {"active": pgettext("list separator", ", ").join(active) if active else _("none")}


@register.inclusion_tag("governance/_linked_filters.html")
def linked_filters(params, values=None, **labels) -> dict:
    """Inside a list's filter form: the filters in force that the form has no field for, which came
    with the address (a link from a dashboard, an organisation's page, the API's parameters). Each
    is kept as hidden inputs, so submitting the form with another filter changed keeps it, and named
    as the summary names it (``values``: no query of its own, no name for a refused value) beside a
    link that removes just that filter, leaving the others and the first page."""
    kept = []
    for key, label, chosen in _in_force(params, labels):
        rest = params.copy()
        for dropped in (key, "page"):
            rest.pop(dropped, None)
        kept.append(
            {
                "key": key,
                "values": chosen,
                "named": _named(key, label, chosen, values or {}),
                "without": rest.urlencode(),
            }
        )
    return {"kept": kept}


def _in_force(params, labels: dict):
    """(parameter, label, its values not empty) of each labelled filter that has one, in order."""
    for key, label in labels.items():
        chosen = [v for v in params.getlist(key) if v]
        if chosen:
            yield key, label, chosen


def _named(key: str, label, chosen: list[str], values: dict) -> str:
    """A filter as the summary says it: "Label: value" when ``values`` names every value, else the
    label alone (a flag, a value the filter refused). A value ``AS_TYPED`` (a date) is shown as it
    was sent, refused or not; a named one with a capital ("Status: Accepted")."""
    known = values.get(key, {})
    if key in values and known is AS_TYPED:
        # As sent, not capitalised: a refused "abc" read "Abc", a value nobody typed.
        shown = chosen
    else:
        shown = [capfirst(str(known[v])) for v in chosen if v in known]
    if len(shown) != len(chosen):
        return str(label)
    value = pgettext("filter values", " or ").join(shown)
    return pgettext("filter and its value", "%(label)s: %(value)s") % {"label": label, "value": value}


def summary_values(filterset, **extra) -> dict:
    """The ``values`` of ``filters_summary`` for a list page's filterset, read once its rows were
    asked for: a choice's label from its field's choices, a date as typed, and a record (a grid, an
    area, a department, an organisation, a mediator) by the name its filter read with the record
    (``KnownRecordMixin.named``): no query of its own, and no name for a value the filter refused,
    such as a code from outside the user's area; a yes/no filter's "false" as "No". ``extra`` adds
    or rewords what a field cannot say (a category's label from the rows the form lists)."""
    values: dict = {}
    for name, flt in filterset.filters.items():
        field = filterset.form.fields.get(name)
        if isinstance(flt, KnownRecordMixin):
            values[name] = flt.named
        elif isinstance(field, forms.DateField):
            values[name] = AS_TYPED
        elif isinstance(field, forms.NullBooleanField):
            # "true" is said by the label alone ("Overdue"); "false" would read the same without it.
            no = pgettext("a yes/no filter's value", "no")
            values[name] = {"false": no, "0": no}
        elif isinstance(field, forms.ChoiceField):
            values[name] = {str(v): label for v, label in field.choices if v not in ("", None)}
    return values | extra
