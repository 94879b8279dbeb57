"""`takedown hash FILE...`: JSON lines, errors reported per file, non-zero exit on any failure."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from takedown.cli.hash_commands import sniff_kind
from takedown.cli.main import main
from takedown.signals.pdq import pdq_hash
from takedown.signals.vpdq import example_video

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "signals"


def run(capsys: pytest.CaptureFixture[str], *files: str) -> tuple[int, list[dict], str]:
    code = main(["hash", *files])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_image_and_plain_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "photo.bin"
    shutil.copy(FIXTURES / "q1050.jpg", image)
    text = tmp_path / "notes.txt"
    text.write_bytes(b"abc")
    code, records, _ = run(capsys, str(image), str(text))
    assert code == 0
    data = image.read_bytes()
    assert records[0]["file"] == str(image)
    signals = records[0]["signals"]
    assert signals["pdq"] == pdq_hash(data).hash
    assert signals["pdq_quality"] == pdq_hash(data).quality
    assert signals["md5"] == hashlib.md5(data).hexdigest()
    assert signals["sha256"] == hashlib.sha256(data).hexdigest()
    assert records[1]["signals"] == {
        "md5": "900150983cd24fb0d6963f7d28e17f72",
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    }


@pytest.mark.usefixtures("vpdq_lib")
def test_video_gets_vpdq(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = tmp_path / "clip.mp4"
    shutil.copy(FIXTURES / "vpdq" / "doorknob-hd-no-bar.mp4", clip)
    code, records, _ = run(capsys, str(clip))
    assert code == 0
    frames = records[0]["signals"]["vpdq"]
    assert len(frames) >= 3 and all(len(f.split(",")[0]) == 64 for f in frames)
    assert "pdq" not in records[0]["signals"]


def test_failures_are_reported_and_the_rest_still_hashed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    missing = tmp_path / "missing.png"
    good = tmp_path / "good.png"
    shutil.copy(FIXTURES / "coins.png", good)
    code, records, err = run(capsys, str(broken), str(missing), str(good))
    assert code == 2
    assert "error" in records[0] and "error" in records[1]
    assert records[2]["signals"]["pdq"] == pdq_hash(good.read_bytes()).hash
    assert "broken.jpg" in err and "missing.png" in err
    assert "Traceback" not in err


def test_kind_sniffing() -> None:
    assert sniff_kind(b"\x89PNG\r\n\x1a\n", "x.dat") == "image"
    assert sniff_kind(b"\x00\x00\x00\x18ftypisom", "x") == "video"
    assert sniff_kind(b"\x00\x00\x00\x18ftypavif", "x") == "image"
    assert sniff_kind(example_video()[:16], "x") == "image"
    assert sniff_kind(b"hello", "clip.webm") == "video"
    assert sniff_kind(b"hello", "notes.txt") == "file"
