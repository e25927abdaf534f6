"""Incident photos: at most 10 MB each and 6 per step, cleaned by ``governance.pictures``, each with
the thumbnail pages show and the display copy a tap on it opens."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from governance.pictures import DISPLAY_SIDE, THUMBNAIL_SIDE, CleanPhoto, clean_picture, thumbnail_picture
from grids.models import IncidentPhoto

log = logging.getLogger(__name__)

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
    return clean_picture(data, name, field, thumbnail=True, display=True)


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


def attach_thumbnail(photo: IncidentPhoto, thumbnail: CleanPhoto) -> None:
    """Write ``thumbnail``'s file for ``photo`` and set its fields; the caller saves the row."""
    _attach(photo, "thumbnail", thumbnail)


def attach_display(photo: IncidentPhoto, display: CleanPhoto) -> None:
    """Write ``display``'s file (the display copy) for ``photo`` and set its fields; the caller saves the row."""
    _attach(photo, "display", display)


def _attach(photo: IncidentPhoto, copy: str, picture: CleanPhoto) -> None:
    getattr(photo, copy).save(copy, ContentFile(picture.content), save=False)
    setattr(photo, f"{copy}_width", picture.width)
    setattr(photo, f"{copy}_height", picture.height)


@dataclass
class Backfill:
    made: int = 0
    # The photos whose file is missing or unreadable.
    failed: set[int] = field(default_factory=set)


def thumbnails_backfill(*, chunk_size: int = 200) -> Backfill:
    """Make the thumbnail of every photo stored without one (before thumbnails were made with the
    photo), one photo in memory at a time; safe to run again, or beside another run.

    The rows are read in chunks of ``chunk_size`` (a server-side cursor on PostgreSQL), not all at
    once. Each thumbnail is written, then set on its row only if the row still has none: a photo
    deleted meanwhile, or given its thumbnail by another run, leaves no file behind. A photo whose
    file is gone or unreadable is logged and counted, and the others go on; its pages show the photo
    (or its 404) as before."""
    return _backfill("thumbnail", THUMBNAIL_SIDE, chunk_size)


def displays_backfill(*, chunk_size: int = 200) -> Backfill:
    """Make the display copy of every photo stored without one, as ``thumbnails_backfill`` makes
    thumbnails (a JPEG decoded at the smallest draft scale that still covers 640 px)."""
    return _backfill("display", DISPLAY_SIDE, chunk_size)


def _backfill(copy: str, side: int, chunk_size: int) -> Backfill:
    result = Backfill()
    pending = (
        IncidentPhoto.objects.filter(**{copy: ""}).only("pk", "file", "content_type", copy).order_by("pk")
    )
    for photo in pending.iterator(chunk_size=chunk_size):
        try:
            with photo.file.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
            made = thumbnail_picture(data, photo.file.name, "file", side=side)
        except (OSError, ValidationError) as exc:
            log.warning("photo %s: no %s made (%s)", photo.pk, copy, type(exc).__name__)
            result.failed.add(photo.pk)
            continue
        _attach(photo, copy, made)
        stored = getattr(photo, copy)
        taken = IncidentPhoto.objects.filter(pk=photo.pk, **{copy: ""}).update(
            **{
                copy: stored.name,
                f"{copy}_width": getattr(photo, f"{copy}_width"),
                f"{copy}_height": getattr(photo, f"{copy}_height"),
            }
        )
        if taken:
            result.made += 1
        else:
            stored.storage.delete(stored.name)
    return result
