"""Re-posting edits for bench/robustness.py and a held-out picture set the project never tuned on.

Edits (each takes a Pillow RGB image, returns the edited image):
  crop_{5,10,20}, crop_{5,10,20}_corner   that share of each side removed (centre: split
                                           between opposite sides; corner: from top and left)
  caption_band_top / _bottom              a white band 20% of the height with black text
                                           added above / below the picture (the image grows)
  logo_overlay                            an opaque round logo top-right and a handle watermark
  screenshot_frame                        the picture inside a larger UI-like canvas (bars,
                                           avatar, text lines), as a phone screenshot would be
  screenshot_desktop                      a dark desktop page: sidebar, search bar, the post's text
                                           above the picture (shown at 70%), comments beside it
  crop10_jpeg50_caption                   10% centre crop, then a caption band, then JPEG q50

Held-out set (`heldout_images`): pictures that ship inside installed Python packages and are
not in ../shared (matplotlib's grace_hopper.jpg, scikit-learn's china.jpg and flower.jpg) plus
procedurally generated natural-like scenes (1/f noise terrain, textured shapes, lighting)
from fixed seeds, so anyone can regenerate exactly the same set.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Edit = Callable[[Image.Image], Image.Image]


def crop(image: Image.Image, share: float, *, corner: bool = False) -> Image.Image:
    w, h = image.size
    if corner:
        return image.crop((round(w * share), round(h * share), w, h))
    dx, dy = round(w * share / 2), round(h * share / 2)
    return image.crop((dx, dy, w - dx, h - dy))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def caption_band(image: Image.Image, *, top: bool = True, share: float = 0.2) -> Image.Image:
    w, h = image.size
    band = max(12, round(h * share))
    out = Image.new("RGB", (w, h + band), "white")
    out.paste(image, (0, band if top else 0))
    draw = ImageDraw.Draw(out)
    text = "BREAKING: SHARE BEFORE THEY DELETE IT"
    font = _font(band // 3)
    while draw.textlength(text, font=font) > w * 0.92 and font.size > 8:  # type: ignore[union-attr]
        font = _font(int(font.size * 0.9))  # type: ignore[union-attr]
    draw.text((w * 0.04, (0 if top else h) + band * 0.3), text, font=font, fill="black")
    return out


def logo_overlay(image: Image.Image) -> Image.Image:
    out = image.copy()
    w, h = image.size
    draw = ImageDraw.Draw(out)
    side = min(w, h) // 5
    draw.ellipse((w - side - 10, 10, w - 10, 10 + side), fill=(250, 250, 250),
                 outline=(0, 0, 0), width=3)
    draw.text((w - side * 0.8, 10 + side * 0.35), "TV", font=_font(side // 3), fill="black")
    draw.text((w * 0.06, h * 0.84), "@channel_name", font=_font(min(w, h) // 14),
              fill="white", stroke_width=2, stroke_fill="black")
    return out


def screenshot_frame(image: Image.Image) -> Image.Image:
    w, h = image.size
    canvas_w, canvas_h = round(w * 1.25), round(h * 1.9)
    out = Image.new("RGB", (canvas_w, canvas_h), (246, 246, 248))
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, 0, canvas_w, round(canvas_h * 0.07)), fill=(30, 80, 150))
    draw.ellipse((20, round(canvas_h * 0.08), 20 + canvas_h // 14, round(canvas_h * 0.08)
                  + canvas_h // 14), fill=(180, 120, 90))
    draw.text((40 + canvas_h // 14, round(canvas_h * 0.09)), "someone  @someone  2h",
              font=_font(canvas_h // 40), fill=(20, 20, 20))
    top = round(canvas_h * 0.17)
    out.paste(image, ((canvas_w - w) // 2, top))
    for line in range(4):
        y = top + h + 20 + line * canvas_h // 30
        draw.rectangle((30, y, round(canvas_w * (0.5 + 0.1 * line)), y + canvas_h // 60),
                       fill=(205, 205, 210))
    return out


def screenshot_desktop(image: Image.Image) -> Image.Image:
    """A dark-theme desktop page: search bar, a sidebar of links and icons, the post's text
    paragraph above the picture (shown at 70%), comments beside it. A second layout, made
    after the inset finder was tuned on `screenshot_frame`, to check it was not tuned to one."""
    w, h = image.size
    shown = image.resize((round(w * 0.7), round(h * 0.7)))
    canvas_w, canvas_h = round(w * 1.6), round(h * 1.35)
    ink, panel, back = (225, 228, 232), (36, 38, 44), (22, 23, 27)
    out = Image.new("RGB", (canvas_w, canvas_h), back)
    draw = ImageDraw.Draw(out)
    font = _font(canvas_h // 48)
    draw.rectangle((0, 0, canvas_w, canvas_h // 14), fill=panel)
    draw.rounded_rectangle((canvas_w * 0.3, canvas_h // 60, canvas_w * 0.7, canvas_h // 17),
                           radius=canvas_h // 60, fill=(52, 55, 62))
    draw.text((canvas_w * 0.32, canvas_h // 40), "Search", font=font, fill=(150, 150, 160))
    for n, label in enumerate(["Home", "Explore", "Notifications", "Messages", "Bookmarks",
                               "Communities", "Profile", "More"]):
        y = canvas_h // 8 + n * canvas_h // 16
        draw.ellipse((16, y, 16 + canvas_h // 40, y + canvas_h // 40), outline=ink, width=2)
        draw.text((28 + canvas_h // 40, y), label, font=font, fill=ink)
    left = round(canvas_w * 0.22)
    lines = ["They will not silence us. Watch and share this everywhere before",
             "the platforms take it down again. Link in the replies. #repost"]
    for n, line in enumerate(lines):
        draw.text((left, canvas_h // 9 + n * canvas_h // 28), line, font=font, fill=ink)
    top = canvas_h // 9 + len(lines) * canvas_h // 28 + canvas_h // 40
    out.paste(shown, (left, top))
    right = left + shown.width + canvas_w // 40
    for n in range(6):
        y = top + n * canvas_h // 12
        draw.ellipse((right, y, right + canvas_h // 30, y + canvas_h // 30), fill=(90, 70, 140))
        draw.text((right + canvas_h // 24, y), f"user{n}  ·  {n + 1}h", font=font, fill=ink)
        draw.text((right + canvas_h // 24, y + canvas_h // 40), "so true", font=font,
                  fill=(170, 170, 180))
    draw.text((left, top + shown.height + canvas_h // 50), "12 replies   340 reposts   1.2k likes",
              font=font, fill=(170, 170, 180))
    return out


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


NEW_EDITS: dict[str, Edit] = {
    "crop_5_centre": lambda i: crop(i, 0.05),
    "crop_10_centre": lambda i: crop(i, 0.10),
    "crop_20_centre": lambda i: crop(i, 0.20),
    "crop_5_corner": lambda i: crop(i, 0.05, corner=True),
    "crop_10_corner": lambda i: crop(i, 0.10, corner=True),
    "crop_20_corner": lambda i: crop(i, 0.20, corner=True),
    "caption_band_top": lambda i: caption_band(i, top=True),
    "caption_band_bottom": lambda i: caption_band(i, top=False),
    "logo_overlay": logo_overlay,
    "screenshot_frame": screenshot_frame,
    "screenshot_desktop": screenshot_desktop,
    "crop10_jpeg50_caption": lambda i: jpeg(caption_band(crop(i, 0.10)), 50),
}


def _fractal(rng: np.random.Generator, h: int, w: int, slope: float) -> np.ndarray:
    spectrum = rng.normal(size=(h, w)) + 1j * rng.normal(size=(h, w))
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1.0
    field = np.real(np.fft.ifft2(spectrum / radius ** slope))
    return (field - field.min()) / (np.ptp(field) + 1e-9)


def procedural_scene(seed: int, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """A natural-looking scene: coloured 1/f terrain, lit, with textured shapes on it."""
    rng = np.random.default_rng(1000 + seed)
    w, h = size
    terrain = _fractal(rng, h, w, float(rng.uniform(1.2, 1.9)))
    palette = rng.uniform(0, 255, size=(5, 3))
    stops = np.linspace(0, 1, 5)
    rgb = np.stack([np.interp(terrain, stops, palette[:, c]) for c in range(3)], axis=-1)
    gy, gx = np.gradient(terrain)
    light = np.clip(1 + 40 * (gx - gy), 0.5, 1.5)[..., None]
    image = Image.fromarray(np.clip(rgb * light, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(6, 18))):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(15, 110))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
        else:
            points = [(x + int(rng.integers(-r, r)), y + int(rng.integers(-r, r)))
                      for _ in range(int(rng.integers(3, 7)))]
            draw.polygon(points, fill=colour)
    texture = _fractal(rng, h, w, 0.6)
    grain = (texture[..., None] - 0.5) * 50
    out = np.clip(np.asarray(image, dtype=np.float64) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(out).filter(ImageFilter.GaussianBlur(0.6))


def _package_pictures() -> list[tuple[str, Image.Image]]:
    found: list[tuple[str, Image.Image]] = []
    candidates: list[Path] = []
    try:
        import matplotlib

        candidates.append(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")
    except ImportError:
        pass
    try:
        import sklearn

        base = Path(sklearn.__file__).parent / "datasets" / "images"
        candidates += [base / "china.jpg", base / "flower.jpg"]
    except ImportError:
        pass
    for path in candidates:
        if path.is_file():
            found.append((f"pkg-{path.stem}", Image.open(path).convert("RGB")))
    return found


def heldout_images(count: int = 30) -> list[tuple[str, bytes]]:
    """(name, PNG bytes) of the held-out set: package pictures + `count` procedural scenes."""
    pictures = _package_pictures() + [
        (f"scene-{n:02d}", procedural_scene(n, (800, 600) if n % 3 else (640, 800)))
        for n in range(count)
    ]
    out = []
    for name, image in pictures:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        out.append((name, buffer.getvalue()))
    return out
