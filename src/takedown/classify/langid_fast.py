"""Language identification with `langid`, restricted to the languages a platform is likely to see.

`langid` scores all 97 of its languages by default, which costs ~7 ms per post here; scoring a
fixed set of 25 is ~30x faster and keeps language ID cheaper than the fast tier itself. Texts in
a language outside the set come out as the closest listed one; the classifier itself does not
depend on the language (it is multilingual), so the figure is informational and for reports.
"""

from __future__ import annotations

import threading
from typing import Any

SUPPORTED: tuple[str, ...] = (
    "en", "ar", "fr", "de", "it", "es", "pt", "nl", "pl", "sv", "ru", "uk", "tr", "fa", "ur",
    "hi", "bn", "id", "ms", "sw", "am", "zh", "ja", "ko", "he",
)  # fmt: skip


class LanguageIdentifier:
    """Lazy `langid` model: its ~3 MB model string is bz2-decompressed and unpickled on first
    use (~1-2 s of CPU). A lock makes that happen once when several worker threads make their
    first call together; `warm` does it before any item needs it."""

    def __init__(self, languages: tuple[str, ...] = SUPPORTED) -> None:
        self._languages = languages
        self._ident: Any = None
        self._lock = threading.Lock()
        self._prefetch: threading.Thread | None = None

    def _load(self) -> Any:
        ident = self._ident
        if ident is not None:
            return ident
        with self._lock:
            if self._ident is None:
                self._ident = self._build()
            return self._ident

    def _build(self) -> Any:
        from langid.langid import LanguageIdentifier as _LangId
        from langid.langid import model

        ident = _LangId.from_modelstring(model, norm_probs=False)
        ident.set_languages(list(self._languages))
        return ident

    def warm(self) -> None:
        """Load the model now, so the first item classified does not pay for it."""
        self._load()

    def prefetch(self) -> None:
        """Start loading the model on a background thread, once, and return at once.

        The classifier calls this before it loads its sentence encoder: most of langid's load is
        bz2 decompression, which releases the GIL, so on a second core it overlaps the encoder's
        load and the first answer comes about a second sooner. `identify` waits on the lock if
        the thread has not finished."""
        if self._ident is not None or self._prefetch is not None:
            return
        with self._lock:
            if self._ident is not None or self._prefetch is not None:
                return
            self._prefetch = threading.Thread(target=self._load, name="langid-load", daemon=True)
            self._prefetch.start()

    def identify(self, text: str) -> str:
        """ISO 639-1 code, or "und" for text without letters."""
        if not any(ch.isalpha() for ch in text):
            return "und"
        return str(self._load().classify(text)[0])
