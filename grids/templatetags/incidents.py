"""Template tags of the incident pages."""

from django import template

from grids.models import text_for_reader

register = template.Library()


@register.simple_tag(takes_context=True)
def reader_text(context, incident, text):
    """``{% reader_text incident e.note as note %}``: the text as the signed-in user may read it
    (``grids.models.text_for_reader``: numbers masked for those who only read the area's incidents)."""
    return text_for_reader(context["request"].user, incident, text)
