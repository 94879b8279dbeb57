"""Exact signals: MD5 and SHA-256 of every file and media item, SHA-256 of normalised text.

MD5 stays because peers' hash lists (GIFCT, HMA) still carry it; SHA-256 is what we trust.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from takedown.core.content import MEDIA_KINDS, ContentKind, Submission, make_submission
from takedown.core.signals import Signal
from takedown.signals.normalize import normalize_text


def _hex_distance(a: str, b: str) -> int:
    return 0 if a.lower() == b.lower() else 1


class Md5Signal:
    name = "md5"
    kinds = MEDIA_KINDS

    def extract(self, submission: Submission) -> Sequence[Signal]:
        if submission.content is None:
            return []
        return [
            Signal(self.name, hashlib.md5(submission.content, usedforsecurity=False).hexdigest())
        ]

    def compare(self, a: str, b: str) -> int:
        return _hex_distance(a, b)

    def examples(self) -> Sequence[tuple[Submission, str]]:
        item = make_submission(item_id="ex", kind=ContentKind.FILE, content=b"abc")
        return [(item, "900150983cd24fb0d6963f7d28e17f72")]


class Sha256Signal:
    name = "sha256"
    kinds = MEDIA_KINDS

    def extract(self, submission: Submission) -> Sequence[Signal]:
        if submission.content is None:
            return []
        return [Signal(self.name, hashlib.sha256(submission.content).hexdigest())]

    def compare(self, a: str, b: str) -> int:
        return _hex_distance(a, b)

    def examples(self) -> Sequence[tuple[Submission, str]]:
        item = make_submission(item_id="ex", kind=ContentKind.FILE, content=b"abc")
        return [(item, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]


class TextSha256Signal:
    """SHA-256 of the normalised text, so trivially re-typed copies hash the same."""

    name = "text_sha256"
    kinds = frozenset({ContentKind.TEXT, ContentKind.IMAGE, ContentKind.VIDEO, ContentKind.URL})

    def extract(self, submission: Submission) -> Sequence[Signal]:
        if not submission.text or not submission.text.strip():
            return []
        return [Signal(self.name, text_sha256(submission.text))]

    def compare(self, a: str, b: str) -> int:
        return _hex_distance(a, b)

    def examples(self) -> Sequence[tuple[Submission, str]]:
        item = make_submission(item_id="ex", kind=ContentKind.TEXT, text="  Hello   WORLD ")
        return [(item, hashlib.sha256(b"hello world").hexdigest())]


def text_sha256(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def builtin_exact_types() -> list[Md5Signal | Sha256Signal | TextSha256Signal]:
    return [Md5Signal(), Sha256Signal(), TextSha256Signal()]
