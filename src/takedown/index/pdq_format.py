"""The `.tdx` file: a PDQ index segment on disk, versioned, pickle-free, loadable by mmap.

Layout (all integers little-endian):

    bytes 0..7    magic  b"\\x93TDXPDQ\\n"  (binary marker first, so text tools leave it alone)
    bytes 8..11   uint32 length L of the JSON header
    bytes 12..    the JSON header, space-padded so the first array starts on a 64-byte boundary
    then          each array's raw bytes at the offset the header gives, 64-byte aligned

The header names the format and version and lists every array with dtype, shape, offset, byte
length and CRC-32, so a reader in any language can use the file without Takedown, and a
damaged or truncated file is refused instead of half-matching. Arrays:

    hashes     |u1  (n, 32)      canonical hash bytes, rows sorted by chunk 0
    entry_ids  <u4 or <i8 (n,)   the bank entry of each row
    postings   <u4  (15, n)      rows sorted by each of chunks 1..15; while n <= 2**24 each is
                                 row | (low byte of the partner chunk c^1) << 24
                                 ("postings_layout": "row24+partner8"), else a plain row
    offsets    <u4  (16, 65537)  bucket starts; stored zlib-compressed ("encoding": "zlib")
                                 because it is mostly runs for small indexes

Version 1 is what this module writes; tests/unit/index/test_pdq_format.py loads a committed
version-1 file so that a later change cannot silently break files users already have.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from takedown.core.errors import InvalidInput
from takedown.index.pdq_segment import BUCKETS, CHUNKS, HASH_BYTES, MAX_PACKED_ROWS, PdqSegment

MAGIC = b"\x93TDXPDQ\n"
FORMAT = "takedown.pdq-index"
VERSION = 1
ALIGN = 64
_CRC_BLOCK = 1 << 26


def _crc32(data: memoryview | bytes) -> int:
    crc = 0
    view = memoryview(data).cast("B")
    for start in range(0, len(view), _CRC_BLOCK):
        crc = zlib.crc32(view[start : start + _CRC_BLOCK], crc)
    return crc


def _aligned(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN


def write_segment(segment: PdqSegment, path: Path) -> None:
    """Write atomically (temporary file, then rename), so readers never see half a file."""
    offsets_blob = zlib.compress(np.ascontiguousarray(segment.offsets, dtype="<u4").tobytes(), 1)
    payloads: list[tuple[str, dict[str, Any], memoryview | bytes]] = [
        ("hashes", {"dtype": "|u1", "shape": [len(segment), HASH_BYTES]}, segment.hashes.data),
        (
            "entry_ids",
            {"dtype": segment.entry_ids.dtype.str, "shape": [len(segment)]},
            np.ascontiguousarray(segment.entry_ids).data,
        ),
        (
            "postings",
            {"dtype": "<u4", "shape": [CHUNKS - 1, len(segment)]},
            np.ascontiguousarray(segment.postings, dtype="<u4").data,
        ),
        (
            "offsets",
            {"dtype": "<u4", "shape": [CHUNKS, BUCKETS + 1], "encoding": "zlib"},
            offsets_blob,
        ),
    ]
    arrays = []
    for name, meta, data in payloads:
        size = memoryview(data).nbytes
        arrays.append({"name": name, **meta, "nbytes": size, "crc32": _crc32(data)})
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "count": len(segment),
        "hash_bits": HASH_BYTES * 8,
        "chunks": CHUNKS,
        "chunk_bits": 16,
        "row_order": "chunk0",
        "postings_layout": "row24+partner8" if len(segment) <= MAX_PACKED_ROWS else "row32",
        "arrays": arrays,
    }
    # Offsets depend on the header length and the header holds offsets: size it with
    # placeholders wide enough for any file, then fill in the real numbers.
    for entry in arrays:
        entry["offset"] = 10**15
    start = _aligned(len(MAGIC) + 4 + len(json.dumps(header).encode()))
    position = start
    for entry in arrays:
        entry["offset"] = position
        position = _aligned(position + entry["nbytes"])
    text = json.dumps(header).encode()
    text += b" " * (start - len(MAGIC) - 4 - len(text))
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(MAGIC + struct.pack("<I", len(text)) + text)
        for entry, (_, _, data) in zip(arrays, payloads, strict=True):
            out.seek(entry["offset"])
            out.write(data)
        out.truncate(position)
    os.replace(tmp, path)


def read_header(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as src:
            lead = src.read(len(MAGIC) + 4)
            if len(lead) < len(MAGIC) + 4 or lead[: len(MAGIC)] != MAGIC:
                raise InvalidInput(
                    f"{path} is not a Takedown PDQ index file",
                    hint="build one with `takedown index build HASHES.csv -o FILE.tdx`",
                )
            (length,) = struct.unpack("<I", lead[len(MAGIC) :])
            header: dict[str, Any] = json.loads(src.read(length))
    except FileNotFoundError:
        raise InvalidInput(f"index file {path} does not exist") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput(f"{path} has a damaged header") from None
    if header.get("format") != FORMAT:
        raise InvalidInput(f"{path} holds {header.get('format')!r}, not a PDQ index")
    if int(header.get("version", 0)) > VERSION:
        raise InvalidInput(
            f"{path} is format version {header['version']}; this Takedown reads up to {VERSION}",
            hint="upgrade Takedown, or rebuild the index with this version",
        )
    return header


def read_segment(path: Path, *, mmap: bool = False, verify: bool = True) -> PdqSegment:
    """Load a segment; `mmap` maps the big arrays read-only, `verify` checks every CRC-32."""
    header = read_header(path)
    count = int(header["count"])
    file_size = path.stat().st_size
    arrays: dict[str, np.ndarray] = {}
    for entry in header["arrays"]:
        offset, nbytes = int(entry["offset"]), int(entry["nbytes"])
        if offset + nbytes > file_size:
            raise InvalidInput(f"{path} is truncated", hint="copy or rebuild the index file")
        dtype = np.dtype(entry["dtype"])
        shape = tuple(int(d) for d in entry["shape"])
        if entry.get("encoding") == "zlib":
            with open(path, "rb") as src:
                src.seek(offset)
                blob = src.read(nbytes)
            if verify and _crc32(blob) != entry["crc32"]:
                raise InvalidInput(f"{path}: array {entry['name']} fails its checksum")
            array = np.frombuffer(zlib.decompress(blob), dtype=dtype).reshape(shape)
        else:
            if mmap and nbytes:
                array = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
            else:
                array = np.fromfile(path, dtype=dtype, count=int(np.prod(shape)), offset=offset)
                array = array.reshape(shape)
            if verify and _crc32(array.data if nbytes else b"") != entry["crc32"]:
                raise InvalidInput(f"{path}: array {entry['name']} fails its checksum")
        arrays[entry["name"]] = array
    if arrays["hashes"].shape != (count, HASH_BYTES):
        raise InvalidInput(f"{path}: hashes do not match the declared count {count}")
    layout = "row24+partner8" if count <= MAX_PACKED_ROWS else "row32"
    if header.get("postings_layout", layout) != layout:
        raise InvalidInput(f"{path}: unexpected postings layout {header['postings_layout']!r}")
    return PdqSegment(
        hashes=arrays["hashes"],
        entry_ids=arrays["entry_ids"],
        offsets=arrays["offsets"],
        postings=arrays["postings"],
    )
