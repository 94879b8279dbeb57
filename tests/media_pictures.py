"""Benign synthetic pictures and clips for media-matching tests: textured scenes (distinct per
seed), flat single-colour images, panning clips over a scene, and the edits re-posters make
(crop, caption band, logo)."""

from __future__ import annotations

import io
import os
import tempfile

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont


def scene(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """Smoothed noise plus random shapes: plenty of corners, different for every seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    coarse = rng.uniform(0, 255, size=(h // 24 + 1, w // 24 + 1, 3)).astype(np.uint8)
    base = Image.fromarray(coarse).resize((w, h), Image.Resampling.BICUBIC)
    grain = rng.normal(0, 18, size=(h, w, 3))
    image = Image.fromarray(np.clip(np.asarray(base) + grain, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(8, 60))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
        else:
            draw.rectangle((x - r, y - r // 3, x + r // 2, y + r), fill=colour)
    return image


def flat(colour: tuple[int, int, int], size: tuple[int, int] = (400, 300)) -> Image.Image:
    return Image.new("RGB", size, colour)


def crop(image: Image.Image, share: float, *, corner: bool = False) -> Image.Image:
    w, h = image.size
    if corner:
        return image.crop((round(w * share), round(h * share), w, h))
    dx, dy = round(w * share / 2), round(h * share / 2)
    return image.crop((dx, dy, w - dx, h - dy))


def caption_band(image: Image.Image, *, top: bool = True) -> Image.Image:
    w, h = image.size
    band = round(h * 0.2)
    out = Image.new("RGB", (w, h + band), "white")
    out.paste(image, (0, band if top else 0))
    ImageDraw.Draw(out).text((10, (0 if top else h) + band // 3), "SHARE THIS NOW",
                             font=ImageFont.load_default(size=band // 3), fill="black")
    return out


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(image: Image.Image, quality: int = 50) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def clip(seed: int, seconds: int = 6, fps: int = 5) -> list[np.ndarray]:
    """RGB frames panning across a wide scene: every second shows a different view."""
    world = np.asarray(scene(seed, (480 + seconds * fps * 10, 360)))
    return [np.ascontiguousarray(world[:, i * 10: i * 10 + 480]) for i in range(seconds * fps)]


def with_logo(frames: list[np.ndarray]) -> list[np.ndarray]:
    """A broadcaster's logo box and handle burnt into every frame (about a sixth of it)."""
    out = []
    for frame in frames:
        image = Image.fromarray(frame)
        draw = ImageDraw.Draw(image)
        draw.rectangle((20, 20, 200, 110), fill=(250, 250, 250), outline=(200, 0, 0), width=6)
        draw.text((34, 40), "NEWS 24", font=ImageFont.load_default(size=36), fill=(200, 0, 0))
        draw.text((280, 320), "@repost_channel", font=ImageFont.load_default(size=22),
                  fill=(255, 255, 255))
        out.append(np.asarray(image))
    return out


def mp4(frames: list[np.ndarray], fps: int = 5) -> bytes:
    """An MPEG-4 Part 2 file (OpenCV's own encoder: no FFmpeg encoder needed)."""
    handle, path = tempfile.mkstemp(suffix=".mp4")
    os.close(handle)
    try:
        height, width = frames[0].shape[:2]
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
        assert writer.isOpened(), "OpenCV cannot write mp4v here"
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        writer.release()
        with open(path, "rb") as handle_in:
            return handle_in.read()
    finally:
        os.unlink(path)


def screenshot(image: Image.Image, *, dark: bool = False,
               canvas: tuple[int, int] = (720, 1280)) -> tuple[Image.Image, tuple[float, ...]]:
    """A phone screenshot of a post showing `image`, and where the picture is in it (left,
    top, right, bottom as fractions): status and app bars, an avatar, a name line, a paragraph
    of text, the picture with a thin frame, action buttons and the next post's first lines. A
    different layout from the benchmark's `screenshot_frame`, so the tests do not check the
    inset finder only against the layout it was tuned on."""
    width, height = canvas
    ink, panel, back = ((230, 230, 235), (32, 34, 40), (18, 18, 22)) if dark else (
        (15, 20, 25), (235, 238, 242), (255, 255, 255))
    out = Image.new("RGB", canvas, back)
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=height // 45)
    draw.rectangle((0, 0, width, height // 28), fill=panel)
    draw.text((16, 4), "21:44   4G  87%", font=font, fill=ink)
    draw.rectangle((0, height // 28, width, height // 12), fill=panel)
    draw.ellipse((16, height // 10, 16 + height // 18, height // 10 + height // 18),
                 fill=(90, 140, 200))
    draw.text((28 + height // 18, height // 10), "Some One  @some_one · 3h", font=font, fill=ink)
    for line in range(3):
        draw.text((16, height // 6 + line * height // 32),
                  ["Look what they posted again, this is the full picture:",
                   "shared from the channel, #breaking #news #video",
                   "retweet before it is deleted"][line], font=font, fill=ink)
    scale = (width - 32) / image.width
    shown = image.resize((width - 32, round(image.height * scale)))
    top = height // 6 + 3 * height // 32 + 12
    out.paste(shown, (16, top))
    draw.rectangle((15, top - 1, 16 + shown.width, top + shown.height), outline=(120, 120, 130))
    bottom = top + shown.height
    for n, label in enumerate(["Reply 12", "Repost 340", "Like 1.2k", "Share"]):
        draw.text((24 + n * width // 4, bottom + 16), label, font=font, fill=ink)
    draw.line((0, bottom + 60, width, bottom + 60), fill=(120, 120, 130), width=1)
    draw.text((16, bottom + 80), "Another Person  @another · 5h", font=font, fill=ink)
    draw.text((16, bottom + 80 + height // 32), "nothing to see here", font=font, fill=ink)
    return out, (16 / width, top / height, (16 + shown.width) / width, bottom / height)
