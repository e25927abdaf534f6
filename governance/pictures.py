"""Picture validation and cleaning, for every picture a user uploads (incident photos, an assessment's
evidence).

A picture is accepted only if Pillow can decode it fully as JPEG, PNG or WebP (the content decides, not
the file name or the first bytes), and it is re-encoded before it is stored: the re-encoding drops EXIF
(and with it the GPS location and serial number a phone writes) after applying its orientation.

What a decode costs is decided from the header, before any pixel is decoded: at most
``MAX_DECODED_PIXELS`` are ever held in memory (4 bytes each). A larger JPEG (a 50- or 108-megapixel
phone camera) is decoded at 1/2, 1/4 or 1/8 of its size by the JPEG decoder itself (Pillow's draft
mode), so it costs no more than one within the budget; a PNG or WebP has no such reduced decode and
is refused above the budget.
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

# 24 MP (a 4:3 picture of 5657 x 4243): 96 MB decoded as RGBA. A 12-megapixel phone photo is decoded
# whole; a 49.9-megapixel one was too, at about 370 MB (and 8 s for a PNG) per photo, six per report.
MAX_DECODED_PIXELS = 24_000_000
# A JPEG's header may claim this many pixels: decoded at 1/2 or 1/4 it is within the budget. 150 MP
# takes a 108-megapixel phone photo and stays below Pillow's own decompression-bomb error (2 x
# Image.MAX_IMAGE_PIXELS, 179 MP), which Image.open raises before the size can be read.
MAX_JPEG_PIXELS = 150_000_000
# MPO is a JPEG whose APP2 segment lists more pictures (a preview, an Ultra HDR gain map): many phone
# cameras write them, and Pillow names the format MPO. The first picture is the photo; it is kept.
FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# What a cleaned picture keeps of its file's metadata (``clean_picture``): nothing that says where, when or who.
# A PNG's "transparency" (its tRNS chunk: the transparent palette entries or colour) draws the picture too.
KEPT_INFO = ("icc_profile", "transparency")
# A thumbnail's longest side: a page's 96 px square on a phone of device pixel ratio 3 (288 px)
# is covered by a 4:3 photo's short side within a few pixels, at 15-30 KB instead of 1-3 MB.
THUMBNAIL_SIDE = 320
# A display copy's longest side: what a tap on a thumbnail opens on a phone (390 CSS px wide; 640 px
# is sharp at 1.6x and fine at 3x), some 60-120 KB where the photo is 1-3 MB (docs/incidents.md "Photos").
DISPLAY_SIDE = 640


# The extension a cleaned picture is stored under, by its content type (its content, not the name it came with).
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


@dataclass
class CleanPhoto:
    content: bytes
    content_type: str
    width: int
    height: int
    # A small copy for pages that list pictures (``clean_picture(thumbnail=True)``).
    thumbnail: CleanPhoto | None = None
    # A copy to look at on a phone (``clean_picture(display=True)``).
    display: CleanPhoto | None = None

    @property
    def size(self) -> int:
        return len(self.content)


def clean_picture(
    data: bytes, name: str, field: str, *, thumbnail: bool = False, display: bool = False
) -> CleanPhoto:
    """Decode ``data`` (the file's bytes, its size already checked) and return it re-encoded without
    its metadata, or raise ValidationError on ``field`` naming ``name``. With ``thumbnail``, the
    result carries a small copy too (``CleanPhoto.thumbnail``), and with ``display`` one of at most
    ``DISPLAY_SIDE`` (``CleanPhoto.display``), made from the pixels already decoded."""
    image, fmt = _decode(data, name, field)
    small = make_thumbnail(image, FORMATS[fmt]) if thumbnail else None
    shown = make_thumbnail(image, FORMATS[fmt], side=DISPLAY_SIDE) if display else None
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
    return CleanPhoto(out.getvalue(), FORMATS[fmt], image.width, image.height, small, shown)


def thumbnail_picture(data: bytes, name: str, field: str, *, side: int = THUMBNAIL_SIDE) -> CleanPhoto:
    """The thumbnail (or, with ``side=DISPLAY_SIDE``, the display copy) of a picture, decoded under
    the same budget and turned upright the same way as ``clean_picture``'s; a JPEG is decoded directly
    at the smallest draft scale that still covers ``side`` (a stored 12-megapixel photo is read at
    1/8 for a thumbnail). For pictures stored before these copies were (``grids_photo_thumbnails``)."""
    image, fmt = _decode(data, name, field, fit=side)
    return make_thumbnail(image, FORMATS[fmt], side=side)


def thumbnail_type(content_type: str) -> str:
    """A thumbnail's type by its picture's: a JPEG stays a JPEG; a PNG (a screenshot, a drawing,
    perhaps transparent) becomes a WebP, which keeps the transparency at a fraction of a PNG's size."""
    return "image/jpeg" if content_type == "image/jpeg" else "image/webp"


def make_thumbnail(image: Image.Image, content_type: str, *, side: int = THUMBNAIL_SIDE) -> CleanPhoto:
    """``image`` (decoded, upright, its metadata dropped) reduced to at most ``side`` on its longest
    side, never enlarged; encoded as ``thumbnail_type(content_type)``."""
    kind = thumbnail_type(content_type)
    alpha = kind == "image/webp" and image.has_transparency_data
    if image.mode in ("1", "P", "PA") or image.mode.startswith("I"):
        # Pillow resizes a palette by nearest neighbour only, and WebP takes neither a palette nor
        # 16-bit grey: such a picture (a PNG, within the decode budget) is resampled in colour.
        # A tRNS transparency becomes an alpha channel here.
        image = image.convert("RGBA" if alpha else "RGB")
    scale = min(1.0, side / max(image.width, image.height))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # resize makes only the small copy, never a second full-size one; reducing_gap first shrinks by
    # whole factors (cheap box averaging), then resamples what is left.
    small = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if kind == "image/jpeg":
        small = small if small.mode in ("RGB", "L") else small.convert("RGB")
    else:
        small = small.convert("RGBA" if alpha else "RGB")
    out = io.BytesIO()
    icc = image.info.get("icc_profile")
    options = {"icc_profile": icc} if icc else {}
    if kind == "image/jpeg":
        small.save(out, "JPEG", quality=80, optimize=True, **options)
    else:
        small.save(out, "WEBP", quality=80, **options)
    return CleanPhoto(out.getvalue(), kind, small.width, small.height)


def _decode(data: bytes, name: str, field: str, *, fit: int | None = None) -> tuple[Image.Image, str]:
    """``data`` decoded within the budget, upright, with only ``KEPT_INFO`` left of its metadata, and
    its format; or a ValidationError on ``field`` naming ``name``. With ``fit``, a JPEG is decoded at
    the smallest draft scale whose picture still has at least ``fit`` pixels on each side."""

    def refused(message: str) -> ValidationError:
        return ValidationError({field: [message]})

    not_image = refused(_("%(name)s is not a JPEG, PNG or WebP image.") % {"name": name})
    too_large_jpeg = refused(
        _(
            "%(name)s has more than %(limit)d megapixels. Send a smaller photo: a phone camera's usual size is fine."
        )
        % {"name": name, "limit": MAX_JPEG_PIXELS // 1_000_000}
    )
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 MP: the size is checked below, by format, before any decode.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))  # reads the header only
            if probe.format not in FORMATS:
                raise not_image
            pixels = probe.width * probe.height
            if FORMATS[probe.format] == "image/jpeg":
                if pixels > MAX_JPEG_PIXELS:
                    raise too_large_jpeg
            elif pixels > MAX_DECODED_PIXELS:
                raise refused(
                    _(
                        "%(name)s is a PNG or WebP picture of more than %(limit)d megapixels. Send it as a JPEG, or smaller."
                    )
                    % {"name": name, "limit": MAX_DECODED_PIXELS // 1_000_000}
                )
            probe.verify()  # structure check (truncated or forged files fail here)
            image = Image.open(io.BytesIO(data))
            fmt = image.format
            if fit is not None:
                # Pillow's draft takes the largest reduction (up to 1/8) that still gives at least
                # the size asked: a thumbnail never decodes more than it needs.
                image.draft(None, (fit, fit))
            else:
                scale = _reduction(image.width, image.height)
                if scale > 1:
                    # The JPEG decoder scales by 1/2, 1/4 or 1/8 as it decodes (DCT scaling): the
                    # full-size picture is never in memory. Asking for (w // scale, h // scale) makes
                    # Pillow choose exactly ``scale`` (the largest that still gives the size asked).
                    image.draft(None, (image.width // scale, image.height // scale))
            if image.width * image.height > MAX_DECODED_PIXELS:
                # Only a JPEG of 150 MP asked for a large thumbnail could come here: refused, not decoded.
                raise too_large_jpeg
            image.load()  # full decode: a file that only *starts* like an image fails here
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise too_large_jpeg from None  # over 179 MP: Image.open refuses it before we see its size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_image from None
    try:
        # Keep the picture upright once EXIF is gone; in place, not beside a second copy of the pixels.
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as exc:  # Pillow's EXIF reader raises anything on a forged block
        # A PNG or WebP whose EXIF block is not EXIF (SyntaxError "not a TIFF file", struct.error)
        # was a 500. Unreadable, it says nothing about the orientation: the picture is kept as
        # decoded, and the block is dropped with the rest.
        log.info("photo %s: unreadable EXIF block ignored (%s)", name, type(exc).__name__)
    # Only what draws the picture is kept for the saver (the colour profile): EXIF with its
    # GPS position, and a JPEG comment (Pillow's JPEG saver copies it from the source), XMP or
    # Photoshop blocks, which can carry a place, a name or a phone number, are dropped.
    image.info = {key: value for key, value in image.info.items() if key in KEPT_INFO}
    return image, fmt


def _reduction(width: int, height: int) -> int:
    """The JPEG draft scale (1, 2, 4 or 8) that brings ``width`` x ``height`` within MAX_DECODED_PIXELS."""
    for scale in (1, 2, 4, 8):
        if (width // scale) * (height // scale) <= MAX_DECODED_PIXELS:
            return scale
    return 8
