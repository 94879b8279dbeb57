"""`takedown bank add-media` as users run it, then a cropped re-post found by `takedown scan`."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from media_pictures import caption_band, crop, flat, png, scene


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "takedown.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=180)


def test_add_media_banks_good_pictures_refuses_flat_ones_and_scan_finds_a_crop(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "TAKEDOWN_DATA_DIR": str(tmp_path / "data"),
           "TAKEDOWN_CLASSIFIER": "off"}
    env.pop("TAKEDOWN_DATABASE_URL", None)
    original = scene(99)
    good, blank = tmp_path / "poster.png", tmp_path / "blank.png"
    good.write_bytes(png(original))
    blank.write_bytes(png(flat((255, 255, 255))))
    banked = run(["bank", "add-media", "posters", str(good), str(blank), "--label", "tvec1"], env)
    assert banked.returncode == 2, banked.stderr
    first, second = (json.loads(line) for line in banked.stdout.splitlines())
    assert first["added"] == 2 and len(first["pdq"]) == 64 and len(first["orb"]) == 64
    assert "too flat" in second["error"] and "blank.png" in banked.stderr

    copy = png(caption_band(crop(original, 0.1), top=False))
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"id": "re", "kind": "image",
                                 "content_base64": base64.b64encode(copy).decode()}) + "\n")
    scanned = run(["scan", str(items)], env)
    assert scanned.returncode == 0, scanned.stderr
    [result] = [json.loads(line) for line in scanned.stdout.splitlines()]
    assert result["decision"]["action"] == "queue"
    assert any(f["signal_type"] == "orb" for f in result["findings"]), result
