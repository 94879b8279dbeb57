"""Text normalisation against evasion: the one normaliser hashing and classification share.

Evaders write `İ S I S`, `1$1$`, `іѕіѕ` (Cyrillic), `i\u200bs\u200bi\u200bs` or add combining
marks so exact and fuzzy matches miss; normalising first makes those variants collapse onto
the same text. Steps, in order:

1. NFKC (full-width, ligatures, mathematical letters → plain), then casefold.
2. Drop format characters (zero-width spaces/joiners, bidi controls, soft hyphen, BOM).
3. Strip combining marks from Latin, Greek and Cyrillic letters (diacritics and stacked
   "zalgo" marks) and Arabic tashkeel/tatweel; marks that carry meaning in other scripts
   (Devanagari vowel signs, Hebrew points, Thai tone marks) are kept.
4. Confusables: Cyrillic/Greek letters that look Latin become Latin when the word mixes
   scripts, or when the whole text is mostly Latin; Latin lookalikes (`ɪ`, `ı`, `ł`) become
   ASCII. Real Russian, Greek or Arabic text is left alone.
5. Leetspeak inside words (`h3ll0`, `1$1$`, `aleppo'$`), but never in plain numbers (`2024`,
   `$100`, `50%`) or @mentions (user names are identifiers).
6. Letter-spaced words (`i s i s`, `i.s.i.s`) are joined; whitespace collapsed.

The result is idempotent (`normalize_text(normalize_text(t)) == normalize_text(t)`), which a
property test checks.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from unidecode import unidecode

_WHITESPACE = re.compile(r"\s+")
_MARK_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")
_ARABIC_STRIP = {chr(c) for c in range(0x064B, 0x0660)} | {"\u0670", "\u0640"}
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a",
         "$": "s"}
_LEET_CHARS = "".join(re.escape(c) for c in _LEET)
_TOKEN = re.compile(rf"[\w{_LEET_CHARS}'’]+")
_NUMBER = re.compile(r"[$@]?\d+(?:[.,]\d+)*%?")
_SPACED = re.compile(r"(?<![\w])(?:[^\W\d_][ .\-_*·•]){2,}[^\W\d_](?![\w])")
_SPACERS = re.compile(r"[ .\-_*·•]")


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    """First word of the Unicode name (LATIN, CYRILLIC, ARABIC, ...) or '' if unnamed."""
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else ""


@lru_cache(maxsize=4096)
def _latin_lookalike(char: str) -> str | None:
    """The Latin letter a Cyrillic/Greek letter is confused with, if it has exactly one."""
    if _script(char) not in ("CYRILLIC", "GREEK"):
        return None
    from confusable_homoglyphs import confusables

    found = confusables.is_confusable(char, greedy=True, preferred_aliases=["latin"])
    if not found:
        return None
    for homoglyph in found[0]["homoglyphs"]:
        candidate = str(homoglyph["c"]).casefold()
        if len(candidate) == 1 and "a" <= candidate <= "z":
            return candidate
    return None


@lru_cache(maxsize=4096)
def _latin_to_ascii(char: str) -> str:
    """Latin letters without an ASCII form after mark removal (ɪ, ı, ł, ø) → ASCII."""
    if char.isascii() or _script(char) != "LATIN" or not char.isalpha():
        return char
    plain = unidecode(char).casefold()
    return plain if plain.isascii() and plain.isalpha() else char


def _strip_marks(text: str) -> str:
    out: list[str] = []
    base_script = ""
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char):
            if base_script in _MARK_SCRIPTS:
                continue
        else:
            base_script = _script(char)
        if char in _ARABIC_STRIP:
            continue
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


def _mostly_latin(text: str) -> bool:
    latin = other = 0
    for char in text:
        if char.isalpha():
            if _script(char) == "LATIN":
                latin += 1
            elif _latin_lookalike(char) is None:
                other += 1
    return latin > 0 and latin >= other


def _unconfuse(text: str) -> str:
    mostly_latin = _mostly_latin(text)

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        has_latin = any(_script(c) == "LATIN" for c in word if c.isalpha())
        mapped = [_latin_lookalike(c) for c in word]
        lookalikes = sum(m is not None for m in mapped)
        if lookalikes == 0:
            return word
        non_lookalike_foreign = any(
            m is None and c.isalpha() and _script(c) in ("CYRILLIC", "GREEK")
            for c, m in zip(word, mapped, strict=True)
        )
        if has_latin or (mostly_latin and not non_lookalike_foreign):
            return "".join(m or c for c, m in zip(word, mapped, strict=True))
        return word

    text = re.sub(r"\w+", fix, text)
    return "".join(_latin_to_ascii(c) for c in text)


def _deleet(text: str) -> str:
    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        if word.startswith("@") and len(word) > 1 and word[1] not in _LEET:
            return word
        return fix_word(word)

    def fix_word(word: str) -> str:
        if not any(c in _LEET for c in word) or _NUMBER.fullmatch(word):
            return word
        has_letter = any(c.isalpha() for c in word)
        has_symbol = any(c in "@$" for c in word)
        if not (has_letter or (has_symbol and any(c.isdigit() for c in word))):
            return word
        return "".join(_LEET.get(c, c) for c in word)

    return _TOKEN.sub(fix, text)


def _join_spaced(text: str) -> str:
    return _SPACED.sub(lambda m: _SPACERS.sub("", m.group(0)), text)


def _once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    if not text.isascii():
        # ASCII has no marks and no lookalikes to undo; skipping halves the cost of most posts.
        text = _unconfuse(_strip_marks(text))
    text = _deleet(text)
    text = _WHITESPACE.sub(" ", text).strip()
    text = _join_spaced(text)
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=4096)
def normalize_text(text: str) -> str:
    """Canonical form used for text hashes and classification (idempotent).

    Cached (pure and deterministic): every text signal type and the classifier normalise the
    same post, so the pipeline pays for it once per item instead of five times.

    The steps are applied until nothing changes (twice for almost every text), which is what
    makes the function idempotent even where one step exposes work for another.
    """
    current = text
    for _ in range(5):
        following = _once(current)
        if following == current:
            break
        current = following
    return current
