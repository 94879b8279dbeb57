"""Language identification with `langid`, restricted to the languages a platform is likely to see.

`langid` scores all 97 of its languages by default, which costs ~7 ms per post here; scoring a
fixed set of 25 is ~30x faster and keeps language ID cheaper than the fast tier itself. Texts in
a language outside the set come out as the closest listed one; the classifier itself does not
depend on the language (it is multilingual), so the figure is informational and for reports.
"""

from __future__ import annotations

from typing import Any

SUPPORTED: tuple[str, ...] = (
    "en", "ar", "fr", "de", "it", "es", "pt", "nl", "pl", "sv", "ru", "uk", "tr", "fa", "ur",
    "hi", "bn", "id", "ms", "sw", "am", "zh", "ja", "ko", "he",
)  # fmt: skip


class LanguageIdentifier:
    """Lazy `langid` model (its ~3 MB model string loads on first use)."""

    def __init__(self, languages: tuple[str, ...] = SUPPORTED) -> None:
        self._languages = languages
        self._ident: Any = None

    def _load(self) -> Any:
        if self._ident is None:
            from langid.langid import LanguageIdentifier as _LangId
            from langid.langid import model

            ident = _LangId.from_modelstring(model, norm_probs=False)
            ident.set_languages(list(self._languages))
            self._ident = ident
        return self._ident

    def identify(self, text: str) -> str:
        """ISO 639-1 code, or "und" for text without letters."""
        if not any(ch.isalpha() for ch in text):
            return "und"
        return str(self._load().classify(text)[0])
