"""The admin is no back door to personal data (DESIGN.md section 4): no model holding encrypted
personal data or its keyed hashes is registered, directly or as an inline, and no registered admin
lists, searches or filters through one. Reveals go only through the logged pages and API."""

from django.contrib import admin

from governance.pii import EncryptedTextField


def _personal(model) -> set[str]:
    return {
        f.name
        for f in model._meta.get_fields()
        if isinstance(f, EncryptedTextField) or (f.concrete and f.name in ("id_hash", "phone_hash"))
    }


def _relations_to_personal(model) -> set[str]:
    """Names of the reverse relations from ``model`` to a model with personal fields (``parties``,
    ``petitioners``): the way into them from a case or a petition."""
    return {
        f.get_accessor_name() if f.auto_created and not f.concrete else f.name
        for f in model._meta.get_fields()
        if f.is_relation and f.related_model is not None and _personal(f.related_model)
    }


def test_no_model_with_personal_data_is_registered_in_the_admin(db):
    for model, model_admin in admin.site._registry.items():
        assert not _personal(model), model
        for inline in model_admin.inlines:
            assert not _personal(inline.model), (model, inline.model)


def test_no_admin_lists_searches_or_filters_through_personal_data(db):
    checked = 0
    for model, model_admin in admin.site._registry.items():
        ways_in = _relations_to_personal(model)
        names = [
            *model_admin.search_fields,
            *[
                f if isinstance(f, str) else f[0]
                for f in model_admin.list_filter
                if isinstance(f, str | tuple)
            ],
            *[f for f in model_admin.list_display if isinstance(f, str)],
        ]
        for name in names:
            first = name.lstrip("^=@").split("__")[0]
            assert first not in ways_in, (model, name)
        checked += bool(ways_in)
    assert checked >= 2  # the dispute case and the petition were among them


def test_every_model_the_admin_shows_has_a_name_of_its_own(db):
    """No row reads "PetitionEvent object (12)": each registered model and inline names its objects."""
    from django.db import models

    shown = {m for m, ma in admin.site._registry.items()} | {
        inline.model for ma in admin.site._registry.values() for inline in ma.inlines
    }
    assert [m._meta.label for m in shown if m.__str__ is models.Model.__str__] == []
