"""Interop with the installed python-threatexchange package, checked both ways for each format:
written by Takedown and read by the package, and written by the package and read by Takedown."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from takedown.exchange.client import ExchangeEntry
from takedown.exchange.formats import hma, te
from takedown_testing import need_module

need_module("threatexchange", "pip install '.[dev]'")

from threatexchange.cli.dataset.simple_serialization import HMASerialization  # noqa: E402
from threatexchange.cli.dataset_cmd import DatasetCommand  # noqa: E402
from threatexchange.exchanges.clients.fb_threatexchange.descriptor import (  # noqa: E402
    SimpleDescriptorRollup,
)
from threatexchange.exchanges.impl.file_api import (  # noqa: E402
    FileCollaborationConfig,
    LocalFileSignalExchangeAPI,
)
from threatexchange.signal_type.md5 import VideoMD5Signal  # noqa: E402
from threatexchange.signal_type.pdq.signal import PdqSignal  # noqa: E402
from threatexchange.signal_type.sha256 import VideoSHA256Signal  # noqa: E402
from threatexchange.signal_type.url import URLSignal  # noqa: E402
from threatexchange.storage import interfaces as iface  # noqa: E402
from threatexchange.storage.local_dbm import DBMStore  # noqa: E402

KNOWN = ("md5", "sha256", "pdq", "url", "text_sha256", "vpdq")
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "0cc175b9c0f1b6a831c399e269772661"
SHA = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
TYPES = [PdqSignal, VideoMD5Signal, VideoSHA256Signal, URLSignal]


def entries() -> list[ExchangeEntry]:
    return [
        ExchangeEntry("1", "pdq", PDQ, label="TVEC7", source_labels=("gifct:glorification",)),
        ExchangeEntry("2", "md5", MD5, label="TVEC6", source_labels=("recruitment", "entity:x")),
        ExchangeEntry("3", "sha256", SHA, label="TVEC1"),
        ExchangeEntry("4", "url", "https://example.test/a", label="TVEC1"),
        ExchangeEntry("5", "text_sha256", SHA, label="TVEC7"),  # no pytx type: skipped
    ]


def test_signal_file_written_by_takedown_is_fetched_by_pytx(tmp_path: Path) -> None:
    path = tmp_path / "signals.txt"
    with path.open("w") as out:
        written, skipped = te.write_signal_file(entries(), out)
    assert written == 4 and skipped == {"no python-threatexchange type for text_sha256": 1}
    api = LocalFileSignalExchangeAPI(FileCollaborationConfig(name="c", filename=str(path)))
    (delta,) = list(api.fetch_iter(TYPES, None))
    assert set(delta.updates) == {
        ("pdq", PDQ),
        ("video_md5", MD5),
        ("video_sha256", SHA),
        ("url", "https://example.test/a"),
    }


def test_signal_file_printed_by_pytx_is_read_by_takedown(tmp_path: Path) -> None:
    """`threatexchange dataset -P -S` prints this format; its `report_opinion` append cannot
    be used (1.2.17 opens the file with mode "wta", which Python rejects)."""
    command = DatasetCommand(print_signals=True, print_signals_only=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for signal_type, signal in [
            (PdqSignal, PDQ),
            (VideoMD5Signal, MD5),
            (URLSignal, "https://example.test/b"),
        ]:
            command._print_stdout("", signal_type, signal, None)
    path = tmp_path / "signals.txt"
    path.write_text(out.getvalue() + "raw_text some words\n")
    parsed = te.read_signal_file(path.read_text(), where=str(path), known=KNOWN)
    assert [(e.signal_type, e.value) for e in parsed.entries] == [
        ("pdq", PDQ),
        ("md5", MD5),
        ("url", "https://example.test/b"),
    ]
    assert parsed.skipped == {"unsupported signal type raw_text": 1}


def test_state_files_both_ways_keep_labels(tmp_path: Path) -> None:
    paths, skipped = te.write_state_files(entries(), tmp_path / "ours")
    assert sorted(p.name for p in paths) == [
        "simple.HASH_MD5.te",
        "simple.HASH_PDQ.te",
        "simple.HASH_SHA256.te",
        "simple.URI.te",
    ]
    loaded = {(s.indicator_type, s.indicator): s for s in HMASerialization.load(tmp_path / "ours")}
    assert loaded[("HASH_PDQ", PDQ)].rollup.labels == {"gifct:glorification"}
    assert loaded[("HASH_MD5", MD5)].rollup.labels == {"recruitment", "entity:x"}
    assert loaded[("HASH_SHA256", SHA)].rollup.labels == {"perpetrator_produced"}
    assert skipped == {"no ThreatExchange indicator type for text_sha256": 1}

    theirs = tmp_path / "theirs"
    theirs.mkdir()
    HMASerialization.store(
        theirs,
        [
            HMASerialization(
                PDQ, "HASH_PDQ", "777", SimpleDescriptorRollup(88, "2024-01-01", {"incitement"})
            ),
            HMASerialization(
                MD5, "HASH_MD5", "778", SimpleDescriptorRollup(89, "2024-01-02", set())
            ),
            HMASerialization("a" * 40, "HASH_TMK", "779", SimpleDescriptorRollup(90, "x", set())),
        ],
    )
    read = {}
    for path in sorted(theirs.iterdir()):
        parsed = te.read_te(path, path.read_text(), known=KNOWN, signal_type=None)
        read[path.name] = parsed
    pdq = read["simple.HASH_PDQ.te"].entries[0]
    assert (pdq.external_id, pdq.value, pdq.source_labels, pdq.label) == (
        "777",
        PDQ,
        ("incitement",),
        "TVEC8",
    )
    assert pdq.extra["first_descriptor_id"] == "88"
    assert read["simple.HASH_MD5.te"].entries[0].source_labels == ()
    assert read["simple.HASH_TMK.te"].skipped == {"unsupported indicator type HASH_TMK": 1}


def test_hma_store_written_by_takedown_is_read_by_pytx_dbmstore(tmp_path: Path) -> None:
    count, skipped = hma.write_store(entries(), tmp_path, "TAKEDOWN_KNOWN")
    assert count == 4 and skipped == {"no python-threatexchange type for text_sha256": 1}
    store = DBMStore(tmp_path, signal_types=TYPES)
    assert store.get_banks() == {"TAKEDOWN_KNOWN": iface.BankConfig("TAKEDOWN_KNOWN", 1.0)}
    items = list(store.bank_yield_content())
    assert {(i.signal_type_name, i.signal_val) for i in items} == {
        ("pdq", PDQ),
        ("video_md5", MD5),
        ("video_sha256", SHA),
        ("url", "https://example.test/a"),
    }
    ids = [i.bank_content_id for i in items]
    configs = {c.id: c for c in store.bank_content_get(ids)}
    pdq_id = next(i.bank_content_id for i in items if i.signal_type_name == "pdq")
    assert configs[pdq_id].enabled
    assert configs[pdq_id].collab_metadata == {
        "takedown.labels": ["gifct:glorification"],
        "takedown.label": ["TVEC7"],
    }
    # the store stays usable by the package: it adds content after ours without id clashes
    new_id = store.bank_add_content("TAKEDOWN_KNOWN", {PdqSignal: "0" * 64})
    assert new_id not in ids


def test_hma_store_written_by_pytx_is_read_by_takedown(tmp_path: Path) -> None:
    store = DBMStore(tmp_path, signal_types=TYPES)
    bank = iface.BankConfig("GIFCT_SEEDS", 1.0)
    store.bank_update(bank, create=True)
    store.bank_update(iface.BankConfig("OTHER", 1.0), create=True)
    both = store.bank_add_content("GIFCT_SEEDS", {PdqSignal: PDQ, VideoMD5Signal: MD5})
    off = iface.BankContentConfig(0, 0, {}, None, bank)
    store.bank_add_content("GIFCT_SEEDS", {PdqSignal: "1" * 64}, off)
    with_collab = iface.BankContentConfig(0, 1, {"tx-collab": ["k1"]}, "s3://bucket/x", bank)
    store.bank_add_content("GIFCT_SEEDS", {VideoSHA256Signal: SHA}, with_collab)
    assert hma.list_banks(tmp_path) == ["GIFCT_SEEDS", "OTHER"]
    with pytest.raises(Exception, match="--hma-bank"):
        hma.choose_bank(tmp_path, None, "unrelated")
    name = hma.choose_bank(tmp_path, None, "gifct seeds")
    parsed = hma.read_store(tmp_path, name, known=KNOWN)
    got = {(e.signal_type, e.value): e for e in parsed.entries}
    assert set(got) == {("pdq", PDQ), ("md5", MD5), ("sha256", SHA)}
    assert got[("pdq", PDQ)].extra["hma_content_id"] == both
    assert got[("sha256", SHA)].extra["collab_metadata"] == {"tx-collab": ["k1"]}
    assert got[("sha256", SHA)].extra["original_media_uri"] == "s3://bucket/x"
    assert parsed.skipped == {"disabled in HMA": 1}


def test_hma_round_trip_through_takedown_keeps_everything(tmp_path: Path) -> None:
    hma.write_store(entries(), tmp_path, "B")
    again = hma.read_store(tmp_path, "B", known=KNOWN)
    key = {(e.signal_type, e.value, e.label, e.source_labels) for e in again.entries}
    assert key == {
        (e.signal_type, e.value, e.label, e.source_labels)
        for e in entries()
        if e.signal_type != "text_sha256"
    }
    out = io.StringIO()
    te.write_signal_file(again.entries, out)
    assert out.getvalue().count("\n") == 4


def test_vpdq_values_cross_both_ways(tmp_path: Path) -> None:
    need_module("vpdq", "pip install '.[video]'")
    from threatexchange.extensions.vpdq.vpdq import VPDQSignal
    from threatexchange.extensions.vpdq.vpdq_util import (
        VpdqCompactFeature,
        json_to_vpdq,
        vpdq_to_json,
    )

    frames = [VpdqCompactFeature(PDQ, 100, 0.0), VpdqCompactFeature("0" * 64, 49, 1.0)]
    theirs = vpdq_to_json(frames)  # as HMA stores it: '["f8f8…,100,0.000", …]'
    path = tmp_path / "signals.txt"
    path.write_text(f"{VPDQSignal.get_name()} {theirs}\n")
    (entry,) = te.read_signal_file(path.read_text(), where=str(path), known=KNOWN).entries
    assert entry.signal_type == "vpdq"
    assert entry.value == f'["{PDQ},100,0.000","{"0" * 64},49,1.000"]'  # Takedown's own form
    out = tmp_path / "out.txt"
    with out.open("w") as f:
        te.write_signal_file([entry], f)
    api = LocalFileSignalExchangeAPI(FileCollaborationConfig(name="c", filename=str(out)))
    ((pytx_type, value),) = list(api.fetch_iter([VPDQSignal], None))[0].updates
    assert pytx_type == "vpdq" and json_to_vpdq(VPDQSignal.validate_signal_str(value)) == frames
