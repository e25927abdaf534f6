"""Pictures for the demo's incidents, drawn with Pillow (no files shipped, nothing fetched): a street
with its buildings and, for the report, what was found (a bin with bags beside it, a lamp post and an
open manhole, an e-bike charged by a cable from a window, a cracked wall, a box left on the road); the
feedback's picture is the same street without it. A camera's date stamp in the corner.

960 x 720 JPEG, about 50 kB: larger than the 320 px thumbnail pages show, as a phone's photo is, at a
fraction of the time a phone-sized picture would take to draw and clean (seed_demo stays quick)."""

from __future__ import annotations

import datetime as dt
import io
import random

from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont, ImageOps

WIDTH, HEIGHT = 960, 720
FACADES = [(196, 180, 160), (170, 170, 175), (210, 200, 185), (150, 140, 130), (225, 215, 200)]


def picture(code: str, at: dt.datetime, scene: int, *, found: bool = True) -> bytes:
    """A JPEG of the street ``scene`` (the same number draws the same street) at ``at``; with
    ``found``, what category ``code`` is about is in it."""
    rng = random.Random(scene)
    sky = (rng.randint(120, 170), rng.randint(170, 200), rng.randint(215, 240))
    # The sky fades to haze at the horizon: a one-pixel-wide gradient stretched (cheap), then coloured.
    fade = Image.linear_gradient("L").resize((1, HEIGHT)).resize((WIDTH, HEIGHT))
    image = ImageOps.colorize(fade, black=sky, white=(235, 238, 240))
    draw = ImageDraw.Draw(image)
    horizon = int(HEIGHT * rng.uniform(0.5, 0.62))
    x = -rng.randint(0, 60)
    while x < WIDTH:
        width, top = rng.randint(120, 240), rng.randint(60, horizon - 120)
        draw.rectangle([x, top, x + width, horizon], fill=rng.choice(FACADES))
        for wy in range(top + 20, horizon - 30, 46):
            for wx in range(x + 14, x + width - 30, 38):
                lit = rng.random() < 0.2
                draw.rectangle([wx, wy, wx + 22, wy + 28], fill=(230, 220, 150) if lit else (90, 110, 130))
        x += width + rng.randint(0, 20)
    draw.rectangle([0, horizon, WIDTH, HEIGHT], fill=(128, 128, 124))
    draw.polygon(
        [(0, HEIGHT), (WIDTH * 0.35, horizon), (WIDTH * 0.65, horizon), (WIDTH, HEIGHT)], fill=(96, 96, 94)
    )
    if found:
        _finding(draw, code, horizon, rng)
    stamp = f"{timezone.localtime(at):%Y-%m-%d %H:%M}"
    draw.text((WIDTH - 20, HEIGHT - 16), stamp, font=ImageFont.load_default(size=26), fill=(255, 200, 60),
              anchor="rb", stroke_width=2, stroke_fill=(40, 40, 40))  # fmt: skip
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _finding(draw: ImageDraw.ImageDraw, code: str, horizon: int, rng: random.Random) -> None:
    cx = int(WIDTH * rng.uniform(0.3, 0.7))
    base = horizon + int((HEIGHT - horizon) * rng.uniform(0.45, 0.75))
    if code == "sanitation":
        draw.rectangle([cx - 70, base - 150, cx + 70, base], fill=(40, 120, 60))
        draw.rectangle([cx - 80, base - 165, cx + 80, base - 145], fill=(30, 95, 50))
        for _i in range(6):
            bx, by = cx - 160 + rng.randint(0, 320), base - rng.randint(0, 40)
            colour = rng.choice([(30, 30, 30), (200, 200, 190), (60, 80, 150)])
            draw.ellipse([bx - 40, by - 50, bx + 40, by + 10], fill=colour)
    elif code in ("city_appearance", "road_traffic", "public_security"):
        draw.rectangle([cx - 6, horizon - 200, cx + 6, base], fill=(70, 70, 75))
        draw.line([cx, horizon - 200, cx + 90, horizon - 210], fill=(70, 70, 75), width=10)
        draw.ellipse([cx + 70, horizon - 215, cx + 120, horizon - 190], fill=(60, 60, 60))
        draw.ellipse(
            [cx - 120, base - 20, cx - 20, base + 20], outline=(40, 40, 40), width=8, fill=(80, 80, 80)
        )
    elif code in ("fire_hazard", "work_safety"):
        for side in (-1, 1):
            draw.ellipse(
                [cx + side * 70 - 40, base - 80, cx + side * 70 + 40, base], outline=(20, 20, 20), width=12
            )
        draw.line([cx - 70, base - 40, cx, base - 110, cx + 70, base - 40], fill=(200, 40, 40), width=14)
        draw.line([cx, base - 110, cx + 300, horizon - 60], fill=(20, 20, 20), width=4)
    elif code == "housing_safety":
        points = [
            cx - 100,
            horizon - 250,
            cx - 40,
            horizon - 160,
            cx - 80,
            horizon - 90,
            cx - 10,
            horizon - 10,
        ]
        draw.line(points, fill=(50, 40, 35), width=6)
    else:
        draw.rectangle([cx - 90, base - 110, cx + 90, base], fill=(150, 110, 70))
        draw.line([cx - 90, base - 110, cx + 90, base], fill=(110, 80, 50), width=6)
