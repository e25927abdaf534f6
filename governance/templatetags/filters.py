"""``{% filters_summary params values status=_("Status") … %}``: the <summary> of a list's folded filter
form (governance/_filters_summary.html; each list wraps its form in ``<details class="filters-fold">``),
naming the filters ``params`` sets, in the order given, with their values where the view knows them."""

from django import template
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

register = template.Library()

AS_TYPED = None  # in ``values``: the filter's value is shown as sent (a date)


@register.inclusion_tag("governance/_filters_summary.html")
def filters_summary(params, values=None, **labels) -> dict:
    """Each keyword is a query parameter and the label of its field; a parameter counts when any of
    its values is not empty ("any" is an empty value). Not for an order (``sort``): it hides no row,
    and the form sends the default order every time.

    ``values`` maps a parameter to the labels of its values (``{"category": {"sanitation": "…"}}``,
    from the choices the form lists, so naming them takes no query) or to ``AS_TYPED``; a value it
    does not name (a flag such as "Overdue", a grid) leaves the filter named by its label alone."""
    values = values or {}
    active = []
    for key, label in labels.items():
        chosen = [v for v in params.getlist(key) if v]
        if not chosen:
            continue
        known = values.get(key, {})
        shown = chosen if key in values and known is AS_TYPED else [known[v] for v in chosen if v in known]
        if len(shown) == len(chosen):
            value = pgettext("filter values", " or ").join(capfirst(str(v)) for v in shown)
            label = pgettext("filter and its value", "%(label)s: %(value)s") % {
                "label": label,
                "value": value,
            }
        active.append(str(label))
    return {"active": pgettext("list separator", ", ").join(active) if active else _("none")}
