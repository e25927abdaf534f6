"""``{% filters_summary params status=_("Status") … %}``: the <summary> of a list's folded filter form
(governance/_filters_summary.html; each list wraps its form in ``<details class="filters-fold">``),
naming the filters ``params`` sets, in the order given."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

register = template.Library()


@register.inclusion_tag("governance/_filters_summary.html")
def filters_summary(params, **labels) -> dict:
    """Each keyword is a query parameter and the label of its field; a parameter counts when any of
    its values is not empty ("any" is an empty value). Not for an order (``sort``): it hides no row,
    and the form sends the default order every time."""
    active = [str(label) for key, label in labels.items() if any(params.getlist(key))]
    return {"active": pgettext("list separator", ", ").join(active) if active else _("none")}
