"""``{% refused_title_prefix %}``: "错误：" / "Error: " before the <title> of a page that re-shows a
refused form (templates/base.html), the first thing a screen reader reads of a page. The views need
not say so: a form sent and refused is in their context, bound and with errors, whatever its name.
A page refusing a POST without a form (the account's token asked with a wrong password, a damaged
"Mark all as read") puts its message in ``error``: that says so too.
static/js/app.js still adds the prefix to a page showing errors without a refused form in its context, and
only to a title without it, so that it is never said twice."""

from django import forms, template
from django.utils.translation import pgettext

register = template.Library()


def _refused(value) -> bool:
    if isinstance(value, forms.BaseForm):
        return value.is_bound and bool(value.errors)
    if isinstance(value, forms.BaseFormSet):
        return value.is_bound and value.total_error_count() > 0
    return False


@register.simple_tag(takes_context=True)
def refused_title_prefix(context) -> str:
    if context.get("error") or any(_refused(value) for layer in context.dicts for value in layer.values()):
        # The words of the page's data-error-title, which the script uses (one message).
        return pgettext("before the title of a page whose form came back refused", "Error: ")
    return ""
