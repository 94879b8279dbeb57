"""Text in images (memes, screenshots) through Debian's `tesseract` binary.

Called as a subprocess with the image on stdin, so no Python binding and no temporary files
are needed. Where the binary or a language pack is missing the feature reports itself
`Unavailable` (CLI exit 6, HTTP 503): an optional capability that is absent, not a failure.
Images are checked with Pillow first (size and decodability) so a hostile file never reaches
tesseract unbounded.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass

from takedown.core.errors import InvalidInput, Unavailable

DEFAULT_LANGS: tuple[str, ...] = ("eng", "ara", "fra", "deu")
MAX_PIXELS = 40_000_000
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class OcrResult:
    text: str
    langs: tuple[str, ...]


class TesseractOcr:
    """`extract(image_bytes)` returns the text tesseract reads in the image."""

    def __init__(
        self,
        binary: str = "tesseract",
        langs: tuple[str, ...] = DEFAULT_LANGS,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self._binary = binary
        self._wanted = langs
        self._timeout = timeout_s
        self._langs: tuple[str, ...] | None = None

    def available_langs(self) -> tuple[str, ...]:
        """The wanted languages whose data is installed; raises Unavailable if none or no binary."""
        if self._langs is not None:
            return self._langs
        path = shutil.which(self._binary)
        if path is None:
            raise Unavailable(
                "OCR needs the tesseract binary",
                hint="apt-get install tesseract-ocr tesseract-ocr-{ara,fra,deu}",
            )
        try:
            done = subprocess.run(
                [path, "--list-langs"],
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise Unavailable(f"tesseract does not run: {error}") from None
        installed = {line.strip() for line in done.stdout.splitlines()[1:]}
        langs = tuple(lang for lang in self._wanted if lang in installed)
        if not langs:
            raise Unavailable(
                "tesseract has none of the language packs OCR needs",
                hint=f"install one of: {', '.join(self._wanted)}",
            )
        self._langs = langs
        return langs

    def is_available(self) -> bool:
        try:
            self.available_langs()
        except Unavailable:
            return False
        return True

    def extract(self, image: bytes) -> OcrResult:
        langs = self.available_langs()
        png = _as_png(image)
        try:
            done = subprocess.run(
                [self._binary, "stdin", "stdout", "-l", "+".join(langs), "--psm", "3"],
                input=png,
                capture_output=True,
                timeout=self._timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise InvalidInput(
                "OCR took too long on this image", hint="image too complex"
            ) from None
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise InvalidInput(f"tesseract could not read the image: {message[0]}")
        text = done.stdout.decode("utf-8", "replace")
        return OcrResult(" ".join(text.split()), langs)


def _as_png(image: bytes) -> bytes:
    """Decode defensively with Pillow, re-encode as PNG (bounded size, one format for tesseract)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise InvalidInput(f"image is larger than {MAX_PIXELS} pixels")
            out = io.BytesIO()
            img.convert("RGB").save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise InvalidInput(f"not a readable image: {error}") from None
