"""Text in images (memes, screenshots) through Debian's tesseract.

Through libtesseract's C API where it loads (`tesseract_lib`: the language models stay loaded,
~3–35 ms per small image instead of ~0.25 s of start-up per image), else the `tesseract` binary
as a subprocess with the image on stdin. Where neither or no language pack is there the feature
reports itself `Unavailable` (CLI exit 6, HTTP 503): an optional capability that is absent, not
a failure. Images are checked with Pillow first (size and decodability) so a hostile file never
reaches tesseract unbounded.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from dataclasses import dataclass

from takedown.classify.tesseract_lib import EnginePool, load_library
from takedown.core.errors import InvalidInput, Unavailable

DEFAULT_LANGS: tuple[str, ...] = ("eng", "ara", "fra", "deu")
MAX_PIXELS = 40_000_000
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class OcrResult:
    text: str
    langs: tuple[str, ...]


class TesseractOcr:
    """`extract(image_bytes)` returns the text tesseract reads in the image. `library=None`
    forces the subprocess; `engines` bounds the library engines kept (one per concurrent OCR)."""

    def __init__(
        self,
        binary: str = "tesseract",
        langs: tuple[str, ...] = DEFAULT_LANGS,
        timeout_s: float = TIMEOUT_S,
        *,
        library: str | None = "tesseract",
        engines: int = 2,
    ) -> None:
        self._binary = binary
        self._wanted = langs
        self._timeout = timeout_s
        self._library = library
        self._engines = engines
        self._langs: tuple[str, ...] | None = None
        self._pool: EnginePool | None = None
        self._lock = threading.Lock()

    @property
    def uses_library(self) -> bool:
        """Whether OCR runs in process (after the first `available_langs`)."""
        return self._pool is not None

    def available_langs(self) -> tuple[str, ...]:
        """The wanted languages whose data is installed; raises Unavailable if none, or neither
        the library nor the binary is there."""
        if self._langs is not None:
            return self._langs
        with self._lock:
            if self._langs is None and self._library is not None:
                self._langs, self._pool = self._library_langs(self._library)
            if self._langs is None:
                self._langs = self._binary_langs()
        return self._langs

    def _library_langs(self, name: str) -> tuple[tuple[str, ...] | None, EnginePool | None]:
        try:
            lib = load_library(name)
            probe = EnginePool(lib, "+".join(self._wanted), size=1)
            with probe.engine() as engine:
                installed = engine.available()
            probe.close()
        except Unavailable:
            return None, None
        langs = tuple(lang for lang in self._wanted if lang in installed)
        if not langs:
            return None, None
        return langs, EnginePool(lib, "+".join(langs), size=self._engines)

    def _binary_langs(self) -> tuple[str, ...]:
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
        return langs

    def is_available(self) -> bool:
        try:
            self.available_langs()
        except Unavailable:
            return False
        return True

    def warm(self) -> None:
        """Find the languages and start one library engine (it loads the language models,
        ~0.3 s), so the first image does not pay for it; raises Unavailable without OCR."""
        self.available_langs()
        if self._pool is not None:
            with self._pool.engine():
                pass

    def extract(self, image: bytes) -> OcrResult:
        langs = self.available_langs()
        if self._pool is not None:
            rgb, width, height = _as_rgb(image)
            with self._pool.engine() as engine:
                text = engine.recognise(rgb, width, height, self._timeout)
            return OcrResult(" ".join(text.split()), langs)
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


def _as_rgb(image: bytes) -> tuple[bytes, int, int]:
    """Decode defensively with Pillow (bounded size): RGB pixels, width, height."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise InvalidInput(f"image is larger than {MAX_PIXELS} pixels")
            rgb = img.convert("RGB")
            return rgb.tobytes(), rgb.width, rgb.height
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise InvalidInput(f"not a readable image: {error}") from None


def _as_png(image: bytes) -> bytes:
    """The same pixels as PNG, one format for the binary."""
    from PIL import Image

    rgb, width, height = _as_rgb(image)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), rgb).save(out, format="PNG")
    return out.getvalue()
