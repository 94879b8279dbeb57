"""The text classifier as a pipeline Detector: one Finding per submission with readable text.

Text comes from the submission's `text`, plus, for images, the text OCR reads in
`submission.content` (memes, screenshots) when tesseract is installed. The Finding's label is
the taxonomy label of the predicted class (`tvec` → its TVEC category from the model's
category head: TVEC2 threat, TVEC6 recruitment, TVEC7 praise, TVEC8 incitement; every other
class → TVEC0; the class itself in `evidence["class"]`, the decision rule in
`evidence["rule"]`) and its score that class's calibrated probability; the evidence carries
all four scores, the language, the tier that decided and the terms/spans a reviewer can check.

`detect_batch` classifies many submissions in one call (one encoder batch): the batching
worker calls it where the detector has it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from takedown.classify.model import Classification, TieredClassifier
from takedown.classify.ocr import TesseractOcr
from takedown.core.content import ContentKind, Submission
from takedown.core.errors import InvalidInput, Unavailable
from takedown.core.findings import Finding
from takedown.core.signals import Signal
from takedown.core.taxonomy import TvecLabel

MAX_TEXT_CHARS = 10_000

# Findings speak the taxonomy so policy rules treat bank and classifier evidence alike. A `tvec`
# answer carries its category (`Classification.category`); this table is the fallback for a
# model without a category head. News and counter-speech are not TVEC content: the class
# itself stays in evidence["class"] for rules and reviewers that need it.
TAXONOMY_LABEL: dict[str, str] = {
    "tvec": TvecLabel.PRAISE.value,
    "news": TvecLabel.NOT_TVEC.value,
    "counter": TvecLabel.NOT_TVEC.value,
    "other": TvecLabel.NOT_TVEC.value,
}


class ClassifierDetector:
    """Detector protocol: `name`, `version`, `detect(submission, signals)`.

    Build once per process (loading costs ~1 s and ~60 MB; the encoder's ~100 MB load lazily on
    the first uncertain text) and share it: `classify` is read-only and thread-safe.
    """

    name = "text-classifier"

    def __init__(
        self,
        classifier: TieredClassifier | None = None,
        *,
        model_dir: Path | None = None,
        ocr: TesseractOcr | None = None,
        use_ocr: bool = True,
    ) -> None:
        self.classifier = classifier or TieredClassifier.shared(model_dir)
        self.version = self.classifier.version
        self._ocr = (ocr or TesseractOcr()) if use_ocr else None

    def warm(self) -> None:
        """Load language id, the encoder and one OCR engine now (`Pipeline.warm`). Without
        tesseract OCR stays `Unavailable` and images are classified on their text alone, as
        `texts_of` does, so that is not a warm failure."""
        self.classifier.warm()
        if self._ocr is not None:
            with contextlib.suppress(Unavailable):
                self._ocr.warm()

    def texts_of(self, submission: Submission) -> tuple[str, dict[str, Any]]:
        """The text to classify and notes on where it came from (OCR or not, and why not)."""
        parts = []
        notes: dict[str, Any] = {}
        if submission.text and submission.text.strip():
            parts.append(submission.text)
        if submission.kind is ContentKind.IMAGE and submission.content:
            if self._ocr is None:
                notes["ocr"] = "disabled"
            else:
                try:
                    result = self._ocr.extract(submission.content)
                    notes["ocr"] = "ok"
                    notes["ocr_text"] = result.text[:500]
                    if result.text:
                        parts.append(result.text)
                except Unavailable as error:
                    notes["ocr"] = f"unavailable: {error.message}"
                except InvalidInput as error:
                    notes["ocr"] = f"failed: {error.message}"
        return "\n".join(parts)[:MAX_TEXT_CHARS], notes

    def detect(self, submission: Submission, signals: Sequence[Signal] = ()) -> list[Finding]:
        return self.detect_batch([submission])[0]

    def detect_batch(self, submissions: Sequence[Submission]) -> list[list[Finding]]:
        """Findings per submission, in order, from one `classify_batch` call over all texts."""
        texts = [self.texts_of(s) for s in submissions]
        todo = [i for i, (text, _) in enumerate(texts) if text.strip()]
        results = self.classifier.classify_batch([texts[i][0] for i in todo])
        out: list[list[Finding]] = [[] for _ in submissions]
        for i, result in zip(todo, results, strict=True):
            out[i] = [self._finding(result, texts[i][1])]
        return out

    def classify_batch(self, texts: Sequence[str]) -> list[Classification]:
        """Raw classifier answers for many texts in one encoder batch."""
        return self.classifier.classify_batch(texts)

    def _finding(self, result: Classification, notes: dict[str, Any]) -> Finding:
        evidence = {
            "scores": result.scores,
            "lang": result.lang,
            "tier": result.tier,
            "rule": result.rule,
            **result.evidence,
            **notes,
        }
        label = TAXONOMY_LABEL[result.label]
        if result.label == "tvec" and result.category:
            label = result.category
            evidence["category"] = result.category
        return Finding(
            detector=f"{self.name}@{self.version}",
            label=label,
            score=result.scores[result.label],
            evidence={"class": result.label, **evidence},
        )
