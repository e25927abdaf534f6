"""Incident photos: at most 10 MB each and 6 per step, cleaned by ``governance.pictures``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from governance.pictures import CleanPhoto, clean_picture

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_STEP = 6


def clean_photo(upload, field: str = "photos") -> CleanPhoto:
    """Validate one uploaded file and return its cleaned bytes, or raise ValidationError on ``field``."""
    name = getattr(upload, "name", "") or _("the photo")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError({field: [_("%(name)s is larger than 10 MB.") % {"name": name}]})
    upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError({field: [_("%(name)s is larger than 10 MB.") % {"name": name}]})
    return clean_picture(data, name, field)


def clean_photos(uploads, field: str = "photos") -> list[CleanPhoto]:
    uploads = list(uploads or [])
    if len(uploads) > MAX_PER_STEP:
        raise ValidationError({field: [_("At most %(n)d photos at a time.") % {"n": MAX_PER_STEP}]})
    # Every file is checked before one refusal is raised: with two bad photos of six, the second
    # was named only after the first was replaced and the form sent again.
    cleaned, errors = [], []
    for upload in uploads:
        try:
            cleaned.append(clean_photo(upload, field))
        except ValidationError as exc:
            errors.extend(exc.message_dict[field])
    if errors:
        raise ValidationError({field: errors})
    return cleaned
