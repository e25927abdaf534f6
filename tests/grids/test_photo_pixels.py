"""What a photo's pixels cost and keep: the decode budget (checked from the header, before any
decode), a large phone JPEG decoded reduced rather than refused, EXIF orientation applied before the
metadata goes, and a PNG's transparency kept."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from governance import pictures
from grids import photos
from grids.models import Incident, IncidentPhoto
from grids.photos import clean_photo
from tests.base import api_client
from tests.grids.conftest import IN_GRID_A


def upload(data: bytes, name: str = "a.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def saved(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` and whose pixel data is one empty row: any
    attempt to decode it fails, so a refusal that names its size was made from the header alone."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is rewritten to claim ``width`` x ``height``."""
    data = bytearray(saved(Image.new("RGB", (16, 16), "red"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def phone_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation: 6 = the camera was turned a quarter right
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0xA431] = "SN-0042-7731"  # BodySerialNumber
    exif[0x8825] = {1: "N", 2: (31.0, 48.0, 18.0), 3: "E", 4: (117.0, 0.0, 18.0)}  # GPSInfo
    return exif


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("rgba", lambda: Image.new("RGBA", (20, 10), (200, 30, 30, 0))),
        ("la", lambda: Image.new("LA", (20, 10), (90, 0))),
        ("palette", lambda: _palette_with_transparent_index()),
        ("grey-trns", lambda: _with_transparency(Image.new("L", (20, 10), 90), 90)),
        ("rgb-trns", lambda: _with_transparency(Image.new("RGB", (20, 10), (200, 30, 30)), (200, 30, 30))),
    ],
)
def test_a_png_keeps_its_transparency(name, make):
    """A PNG's transparent pixels came back opaque (a palette or tRNS transparency is Pillow's
    ``info["transparency"]``, which the metadata filter dropped): a cut-out sketch of a site became
    a black or red block."""
    source = make()
    data = saved(
        source,
        "PNG",
        **({"transparency": source.info["transparency"]} if "transparency" in source.info else {}),
    )
    assert Image.open(io.BytesIO(data)).convert("RGBA").getpixel((0, 0))[3] == 0
    clean = clean_photo(upload(data, "a.png"))
    stored = Image.open(io.BytesIO(clean.content))
    assert stored.format == "PNG" and stored.size == (20, 10)
    assert stored.convert("RGBA").getpixel((0, 0))[3] == 0


def _palette_with_transparent_index() -> Image.Image:
    image = Image.new("P", (20, 10), 0)
    image.putpalette([200, 30, 30, 0, 0, 0])
    image.info["transparency"] = 0
    return image


def _with_transparency(image: Image.Image, value) -> Image.Image:
    image.info["transparency"] = value
    return image


def test_a_jpeg_above_the_decode_budget_is_decoded_reduced_upright_and_without_metadata(monkeypatch):
    """A JPEG with more pixels than are ever decoded is read at 1/2, 1/4 or 1/8 of its size by the
    JPEG decoder itself (Pillow's draft mode) instead of being decoded whole, then turned upright by
    its EXIF orientation before the EXIF (GPS, serial number, maker) is dropped."""
    monkeypatch.setattr(pictures, "MAX_DECODED_PIXELS", 1_000_000)
    data = saved(Image.new("RGB", (2000, 1500), (200, 30, 30)), "JPEG", exif=phone_exif(6))
    assert b"SN-0042-7731" in data
    clean = clean_photo(upload(data))
    # 3 MP over a 1 MP budget: read at 1/2 (1000 x 750), then turned a quarter.
    assert (clean.width, clean.height) == (750, 1000)
    stored = Image.open(io.BytesIO(clean.content))
    assert stored.size == (750, 1000) and not stored.getexif()
    assert b"SN-0042-7731" not in clean.content and b"PhoneMaker" not in clean.content


def test_a_50_megapixel_phone_photo_is_accepted_at_half_size():
    """A 50-megapixel phone camera's photo (8192 x 6144) was refused as having "too many pixels";
    one just under the limit was decoded whole (about 370 MB of memory for one photo)."""
    data = saved(Image.new("RGB", (8192, 6144), (90, 120, 60)), "JPEG", quality=30)
    assert len(data) < photos.MAX_BYTES
    clean = clean_photo(upload(data))
    assert (clean.width, clean.height) == (4096, 3072)
    assert clean.width * clean.height <= pictures.MAX_DECODED_PIXELS


def test_orientation_is_applied_to_a_photo_within_the_budget():
    data = saved(Image.new("RGB", (40, 30), (200, 30, 30)), "JPEG", exif=phone_exif(6))
    clean = clean_photo(upload(data))
    assert (clean.width, clean.height) == (30, 40)
    assert b"SN-0042-7731" not in clean.content and "exif" not in Image.open(io.BytesIO(clean.content)).info


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        # PNG and WebP have no reduced decode: one over the budget is refused from its header.
        (
            png_header_only(8000, 8000),
            "map.png",
            "map.png is a PNG or WebP picture of more than 24 megapixels",
        ),
        # 200 megapixels: more than any phone photo sent at its usual size.
        (jpeg_claiming(20000, 10000), "huge.jpg", "huge.jpg has more than 150 megapixels"),
    ],
    ids=["png", "jpeg"],
)
def test_a_picture_too_large_to_decode_is_refused_from_its_header_saying_what_to_do(data, name, expected):
    with pytest.raises(ValidationError) as exc:
        clean_photo(upload(data, name))
    (message,) = exc.value.message_dict["photos"]
    assert message.startswith(expected) and "Send" in message


@pytest.mark.django_db
def test_the_api_refuses_a_picture_too_large_to_decode_naming_photos_and_saving_nothing(cast, categories):
    before = Incident.objects.count()
    response = api_client(cast.worker_a).post(
        "/api/v1/incidents/",
        {"category": "sanitation", "description": "垃圾", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1],
         "photos": [upload(png_header_only(8000, 8000), "map.png")]},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 400
    assert "24 megapixels" in response.json()["errors"]["photos"][0]
    assert Incident.objects.count() == before and not IncidentPhoto.objects.exists()
