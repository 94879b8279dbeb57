"""Images for the simulator: base pictures from the shared image set (or drawn, for tests),
and the edits an evader or re-uploader makes — crop, rescale, brightness, a caption bar."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance

SIZE = 256
SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def load_images(root: Path) -> list[Image.Image]:
    """Every decodable image under the shared image folders, RGB, at most SIZE pixels."""
    seen: set[str] = set()
    images = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or path.stem in seen:
            continue
        try:
            with Image.open(path) as raw:
                image = raw.convert("RGB")
        except (OSError, ValueError):
            continue
        image.thumbnail((SIZE, SIZE))
        if min(image.size) < 32:
            continue
        seen.add(path.stem)
        images.append(image)
    return images


def drawn_images(count: int, seed: int) -> list[Image.Image]:
    """Synthetic pictures (random shapes on gradients) for tests and ordinary users."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        image = Image.new("RGB", (SIZE, SIZE), tuple(rng.randrange(256) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randint(4, 9)):
            x, y = rng.randrange(SIZE), rng.randrange(SIZE)
            w, h = rng.randint(20, 140), rng.randint(20, 140)
            colour = tuple(rng.randrange(256) for _ in range(3))
            if rng.random() < 0.5:
                draw.ellipse((x, y, x + w, y + h), fill=colour)
            else:
                draw.rectangle((x, y, x + w, y + h), fill=colour)
        out.append(image)
    return out


def edited(image: Image.Image, rng: random.Random, *, strength: float = 1.0) -> bytes:
    """A lightly edited copy: what a re-upload or a 'new' avatar looks like."""
    w, h = image.size
    cut = int(min(w, h) * 0.08 * strength * rng.random())
    out = image.crop((cut, cut, w - cut, h - cut))
    scale = 1.0 + (rng.random() - 0.5) * 0.4 * strength
    out = out.resize((max(32, int(out.width * scale)), max(32, int(out.height * scale))))
    out = ImageEnhance.Brightness(out).enhance(1.0 + (rng.random() - 0.5) * 0.4 * strength)
    if rng.random() < 0.5 * strength:
        draw = ImageDraw.Draw(out)
        bar = max(6, out.height // 10)
        draw.rectangle((0, out.height - bar, out.width, out.height), fill=(0, 0, 0))
    return _png(out)


def original(image: Image.Image) -> bytes:
    return _png(image)
