"""`takedown classify` JSON lines, the pipeline Detector, and OCR through tesseract."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from PIL import Image, ImageDraw, ImageFont

from takedown.classify.ocr import TesseractOcr
from takedown.cli.model_commands import classify_stream, read_items
from takedown.core.content import ContentKind, make_submission
from takedown.core.detection import Detector
from takedown.core.errors import InvalidInput, Unavailable
from takedown.detect.classifier import ClassifierDetector

HAVE_TESSERACT = shutil.which("tesseract") is not None


def test_classify_stream_writes_one_line_per_input_in_order(shipped) -> None:
    lines = [
        json.dumps(
            {"id": "a", "text": "Officials said the ministry reported the attack on Tuesday."}
        ),
        "",
        json.dumps({"id": 7, "text": "I love this recipe for coffee cake"}),
    ]
    out = io.StringIO()
    assert classify_stream(shipped, io.StringIO("\n".join(lines)), out) == 2
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == ["a", "7"]
    for r in rows:
        assert set(r) == {"id", "label", "category", "rule", "scores", "lang", "evidence"}
        assert set(r["scores"]) == {"tvec", "news", "counter", "other"}
        assert r["label"] in r["scores"]


@pytest.mark.parametrize(
    "line", ["not json", json.dumps({"id": "1"}), json.dumps({"text": "x"}), json.dumps([1, 2])]
)
def test_bad_lines_are_invalid_input_naming_the_line(line: str) -> None:
    with pytest.raises(InvalidInput, match="line 2"):
        list(read_items(io.StringIO(json.dumps({"id": "ok", "text": "fine"}) + "\n" + line)))


def test_detector_protocol_and_finding(shipped) -> None:
    detector = ClassifierDetector(shipped, use_ocr=False)
    assert isinstance(detector, Detector)
    sub = make_submission(
        item_id="1", kind=ContentKind.TEXT, text="Police said the bomb killed three."
    )
    [finding] = detector.detect(sub, [])
    assert finding.detector == f"text-classifier@{shipped.version}"
    predicted = finding.evidence["class"]
    assert finding.score == finding.evidence["scores"][predicted]
    assert finding.label == ("TVEC7" if predicted == "tvec" else "TVEC0")
    assert {"lang", "tier", "terms", "spans"} <= set(finding.evidence)


def _text_image(text: str) -> bytes:
    img = Image.new("RGB", (900, 120), "white")
    font = ImageFont.load_default(size=40)
    ImageDraw.Draw(img).text((20, 30), text, fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_image_without_ocr_binary_reports_unavailable(shipped) -> None:
    missing = TesseractOcr(binary="no-such-tesseract-binary", library="no-such-tesseract-library")
    detector = ClassifierDetector(shipped, ocr=missing)
    sub = make_submission(
        item_id="2", kind=ContentKind.IMAGE, content=_text_image("hello"), text="caption"
    )
    [finding] = detector.detect(sub, [])
    assert finding.evidence["ocr"].startswith("unavailable")
    with pytest.raises(Unavailable):
        TesseractOcr(binary="no-such-tesseract-binary", library=None).extract(b"x")


@pytest.mark.skipif(not HAVE_TESSERACT, reason="tesseract is not installed here")
def test_ocr_reads_text_in_an_image_and_feeds_the_classifier(shipped) -> None:
    ocr = TesseractOcr()
    result = ocr.extract(_text_image("Police arrested two suspects"))
    assert "police" in result.text.lower() and "suspects" in result.text.lower()
    detector = ClassifierDetector(shipped, ocr=ocr)
    sub = make_submission(
        item_id="3", kind=ContentKind.IMAGE, content=_text_image("Police arrested two suspects")
    )
    [finding] = detector.detect(sub, [])
    assert finding.evidence["ocr"] == "ok" and "suspects" in finding.evidence["ocr_text"].lower()


@pytest.mark.skipif(not HAVE_TESSERACT, reason="tesseract is not installed here")
def test_ocr_rejects_non_images() -> None:
    with pytest.raises(InvalidInput):
        TesseractOcr().extract(b"definitely not an image")


@pytest.mark.skipif(not HAVE_TESSERACT, reason="tesseract is not installed here")
def test_library_ocr_reads_what_the_binary_reads() -> None:
    images = [_text_image("Police arrested two suspects"), _text_image("Nous sommes ensemble")]
    in_process = TesseractOcr()
    binary = TesseractOcr(library=None)
    texts = [in_process.extract(image).text for image in images]
    assert in_process.uses_library and not binary.uses_library
    assert texts == [binary.extract(image).text for image in images]
    assert "suspects" in texts[0].lower()


@pytest.mark.skipif(not HAVE_TESSERACT, reason="tesseract is not installed here")
def test_library_ocr_reuses_its_engines_and_keeps_the_time_bound() -> None:
    ocr = TesseractOcr(engines=1)
    ocr.available_langs()
    pool = ocr._pool
    assert pool is not None
    with pool.engine() as first:
        pass
    with pool.engine() as second:
        assert second is first
    with pytest.raises(InvalidInput, match="too long"):
        TesseractOcr(timeout_s=0.001).extract(_text_image("Police arrested two suspects " * 3))
    with pytest.raises(InvalidInput):
        ocr.extract(b"definitely not an image")
