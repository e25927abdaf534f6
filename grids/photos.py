"""Photo validation and cleaning.

A photo is accepted only if Pillow can decode it fully as JPEG, PNG or WebP (the content decides, not
the file name or the first bytes), it is at most 10 MB, and it is re-encoded before it is stored: the
re-encoding drops EXIF (and with it the GPS location a phone writes) after applying its orientation.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_STEP = 6
MAX_PIXELS = 50_000_000  # a decompression bomb is refused before it is decoded
# MPO is a JPEG whose APP2 segment lists more pictures (a preview, an Ultra HDR gain map): many phone
# cameras write them, and Pillow names the format MPO. The first picture is the photo; it is kept.
FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# What a cleaned photo keeps of its file's metadata (``clean_photo``): nothing that says where, when or who.
KEPT_INFO = ("icc_profile",)


@dataclass
class CleanPhoto:
    content: bytes
    content_type: str
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.content)


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
    not_image = ValidationError({field: [_("%(name)s is not a JPEG, PNG or WebP image.") % {"name": name}]})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in FORMATS:
                raise not_image
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError({field: [_("%(name)s has too many pixels.") % {"name": name}]})
            probe.verify()  # structure check (truncated or forged files fail here)
            image = Image.open(io.BytesIO(data))
            fmt = image.format
            image.load()  # full decode: a file that only *starts* like an image fails here
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise not_image from None
    try:
        image = ImageOps.exif_transpose(image)  # keep the picture upright once EXIF is gone
    except Exception as exc:  # Pillow's EXIF reader raises anything on a forged block
        # A PNG or WebP whose EXIF block is not EXIF (SyntaxError "not a TIFF file", struct.error)
        # was a 500. Unreadable, it says nothing about the orientation: the picture is kept as
        # decoded, and the block is dropped with the rest.
        log.info("photo %s: unreadable EXIF block ignored (%s)", name, type(exc).__name__)
    # Only what draws the picture is kept for the saver (the colour profile): EXIF with its
    # GPS position, and a JPEG comment (Pillow's JPEG saver copies it from the source), XMP or
    # Photoshop blocks, which can carry a place, a name or a phone number, are dropped.
    image.info = {key: value for key, value in image.info.items() if key in KEPT_INFO}
    out = io.BytesIO()
    if FORMATS[fmt] == "image/jpeg":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        # No exif= argument: Pillow writes no EXIF block, so the GPS position is not kept.
        image.save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    return CleanPhoto(out.getvalue(), FORMATS[fmt], image.width, image.height)


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
