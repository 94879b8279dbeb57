"""`takedown hash FILE...`: one JSON object per file with its md5, sha256 and perceptual hashes.

Images get `pdq` and `pdq_quality` (reference path: these hashes may be shared) plus
`pdq_low_quality`; videos get `vpdq` (HMA's frame list, one frame per second). The kind is
detected from the file's first bytes, then its extension. An unreadable file prints an error
object on stdout and a message on stderr; the others are still hashed and the exit code is 2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from takedown.core.errors import InvalidInput, TakedownError

VIDEO_EXTENSIONS = {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".3gp",
                    ".flv", ".wmv", ".ts"}
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
MAX_FILE_BYTES = 2 * 1024**3


def sniff_kind(head: bytes, name: str) -> str:
    """'image', 'video' or 'file', from magic bytes first and the extension second."""
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM", b"II*\x00", b"MM\x00*")):
        return "image"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "image" if brand in (b"avif", b"heic", b"heix", b"mif1") else "video"
    if head.startswith((b"\x1a\x45\xdf\xa3", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3", b"FLV")):
        return "video"
    suffix = Path(name).suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    return "file"


def hash_file(path: Path) -> dict[str, Any]:
    """The JSON object for one file; raises TakedownError for unreadable input."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidInput(f"{path}: file is over {MAX_FILE_BYTES} bytes")
        data = path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"{path}: cannot read file", hint=error.strerror or str(error)) from None
    if not data:
        raise InvalidInput(f"{path}: file is empty")
    signals: dict[str, Any] = {
        "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    kind = sniff_kind(data[:32], path.name)
    if kind == "image":
        from takedown.signals.pdq import pdq_hash

        result = pdq_hash(data)
        signals |= {"pdq": result.hash, "pdq_quality": result.quality,
                    "pdq_low_quality": result.low_quality}
    elif kind == "video":
        from takedown.signals.vpdq import features_to_value, hash_video_file

        frames = hash_video_file(str(path))
        signals["vpdq"] = json.loads(features_to_value(frames))
    return {"file": str(path), "kind": kind, "signals": signals}


def run_hash(args: argparse.Namespace) -> int:
    failures = 0
    files = list(args.files)
    progress = None
    if len(files) > 1 and sys.stderr.isatty():
        from tqdm import tqdm

        progress = tqdm(total=len(files), desc="hashing", file=sys.stderr)
    for name in files:
        path = Path(name)
        try:
            record = hash_file(path)
        except TakedownError as error:
            failures += 1
            message = str(error) if str(path) in str(error) else f"{path}: {error}"
            print(f"takedown: error: {message}", file=sys.stderr)
            record = {"file": str(path), "error": message}
        print(json.dumps(record, separators=(",", ":")), flush=True)
        if progress is not None:
            progress.update(1)
    if progress is not None:
        progress.close()
    return 2 if failures else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "hash",
        help="print md5, sha256, PDQ (images) and vPDQ (videos) of files as JSON lines",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="image, video or other files")
    parser.set_defaults(func=run_hash)
