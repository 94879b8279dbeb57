"""#10 items 1-2: per-post annotations take precedence over channel/account labels, and the
long-form statements read from an extra folder outside the repository."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from takedown.classify import (
    datasets,
    germeval,
    movements,
    post_annotations,
    statements,
    weak_labels,
)
from takedown.classify.datasets import load_all
from takedown.classify.post_annotations import Annotation
from takedown.classify.weak_labels import tweet_key
from takedown.core.errors import InvalidInput


def test_parse_keeps_letter_and_category_of_tvec_lines_only() -> None:
    notes = post_annotations.parse(
        ["# header", "aaaa\tT\tTVEC6", "bbbb\tO\t-", "cccc\tN\tTVEC7", "dddd\tU", ""], "x.tsv"
    )
    assert notes == {
        "aaaa": Annotation("tvec", "TVEC6"),
        "bbbb": Annotation("other", ""),
        "cccc": Annotation("news", ""),
        "dddd": Annotation(None, ""),
    }


@pytest.mark.parametrize("line", ["aaaa", "aaaa\tX\t-", "aaaa\tT\tTVEC7\textra"])
def test_parse_names_the_file_and_line_of_a_bad_row(line: str) -> None:
    with pytest.raises(InvalidInput, match="x.tsv:2"):
        post_annotations.parse(["aaaa\tT\tTVEC7", line], "x.tsv")


def test_shipped_files_parse_and_cover_both_sources() -> None:
    farright = post_annotations.shipped(post_annotations.FARRIGHT_FILE)
    alfifi = post_annotations.shipped(post_annotations.ALFIFI_FILE)
    assert len(farright) > 2000 and len(alfifi) > 1900
    assert {n.label for n in farright.values()} >= {"tvec", "news", "other"}
    assert all(n.category in weak_labels.CATEGORIES for n in alfifi.values() if n.label == "tvec")


def _channel_csv(root: Path, rows: list[tuple[str, str]]) -> None:
    folder = root / "farright_telegram_official_channels"
    folder.mkdir(parents=True)
    with (folder / "data.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "source", "lang", "orig_label"])
        for i, (text, lang) in enumerate(rows):
            writer.writerow([text, "P", f"t.me/Ch/{i}", lang, "far-right channel=Ch"])


def test_annotation_overrides_the_channel_word_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [
        "Our people will rise, join the movement.",  # word list: tvec; annotated news
        "Leg day at the gym, cardio after.",  # word list: other; annotated tvec, TVEC6
        "Unclear caption of a photo series.",  # annotated U: dropped
        "Join the struggle of our nation today.",  # not annotated: the word list decides
    ]
    _channel_csv(tmp_path, [(t, "en") for t in texts])
    notes = {
        weak_labels.tweet_key(texts[0]): Annotation("news"),
        weak_labels.tweet_key(texts[1]): Annotation("tvec", "TVEC6"),
        weak_labels.tweet_key(texts[2]): Annotation(None),
    }
    monkeypatch.setattr(post_annotations, "shipped", lambda name: notes)
    rows = {e.text: (e.label, e.category) for e in movements.farright_telegram(tmp_path)}
    assert rows == {
        texts[0]: ("news", ""),
        texts[1]: ("tvec", "TVEC6"),
        texts[3]: ("tvec", ""),
    }


def _statements(root: Path) -> None:
    folder = root / statements.SYRIA_FOLDER
    (folder / "corpus").mkdir(parents=True)
    (folder / "support_files").mkdir()
    docs = {
        "Daesh_charter": "Daesh",
        "FSA_charter": "FSA",
        "AaS_charter": "AaS",
    }
    with (folder / "support_files" / "document_metadata.csv").open("w", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file_name", "label", "title", "type", "org_abbreviated"])
        for name, org in docs.items():
            writer.writerow([name, f"1_{org}", "Founding Statement", "charter", org])
            paragraphs = [f"{name} paragraph {i} " + "word " * 80 for i in range(3)]
            (folder / "corpus" / name).write_text("\n".join(paragraphs), encoding="utf-8")


def test_syria_statements_label_by_designation_and_leave_contested_groups_out(
    tmp_path: Path,
) -> None:
    _statements(tmp_path)
    rows = statements.syria_statements(tmp_path)
    labels = {(e.group, e.label) for e in rows}
    assert labels == {("sy:Daesh", "tvec"), ("sy:FSA", "other")}
    daesh = [e for e in rows if e.group == "sy:Daesh"]
    assert max(len(e.text) for e in daesh) > 1000  # the whole statement
    assert sum(len(e.text) < 1000 for e in daesh) == 3  # and its passages
    assert all(e.lang == "ar" and movements.movement_of(e.source) == "jihadist" for e in rows)


def test_extra_folder_is_optional_and_read_when_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(statements.EXTRA_ENV, raising=False)
    assert statements.load_extra(statements.extra_root(None)) == []
    _statements(tmp_path)
    monkeypatch.setenv(statements.EXTRA_ENV, str(tmp_path))
    assert statements.extra_root(None) == tmp_path
    assert {e.source for e in statements.load_extra(statements.extra_root(None))} == {
        "syria_statements"
    }


def _germeval(root: Path) -> None:
    folder = root / germeval.FOLDER
    folder.mkdir(parents=True)
    vio = [
        ("11", "Alle an die Wand stellen!", "call2violence"),
        ("12", "Ich werde ihn finden und erschlagen.", "prospensity"),
        ("13", "Gut so, endlich brennt die Unterkunft.", "support"),
        ("14", "Das ist alles sehr bedenklich.", "other"),
        ("15", "Wir sehen uns Montag auf der Demo.", "nothing"),
        ("16", "Das System muss mit Gewalt gestürzt werden.", "nothing"),
    ]
    dbo = [("15", "Wir sehen uns Montag auf der Demo.", "nothing"),
           ("16", "Das System muss mit Gewalt gestürzt werden.", "subversive")]
    for name, column, rows in ((germeval.VIO_FILE, "vio", vio), (germeval.DBO_FILE, "dbo", dbo)):
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(["id", "description", column])
            writer.writerows(rows)


def test_germeval_maps_violence_labels_to_categories_and_leaves_unclear_posts_out(
    tmp_path: Path,
) -> None:
    _germeval(tmp_path)
    rows = {e.text: (e.label, e.category) for e in germeval.germeval_violence(tmp_path)}
    assert rows == {
        "Alle an die Wand stellen!": ("tvec", "TVEC8"),
        "Ich werde ihn finden und erschlagen.": ("tvec", "TVEC2"),
        "Gut so, endlich brennt die Unterkunft.": ("tvec", "TVEC7"),
        "Wir sehen uns Montag auf der Demo.": ("other", ""),
    }
    assert movements.movement_of(germeval.SOURCE) == "far-right"
    assert germeval.germeval_violence(tmp_path / "missing") == []
    assert {e.source for e in statements.load_extra(tmp_path)} == {germeval.SOURCE}


def test_passages_join_short_paragraphs_and_cut_long_ones() -> None:
    text = "short\n" * 100 + "x" * 3000
    pieces = statements.passages(text)
    assert all(len(p) <= statements.PASSAGE_MAX for p in pieces)
    assert all(len(p) >= statements.PASSAGE_MIN // 2 for p in pieces)


def test_missing_shared_data_is_still_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        load_all(tmp_path, tmp_path)


def _fifth_tribe_csv(root: Path, rows: list[tuple[str, str]]) -> None:
    folder = root / "isis-fanboy-tweets-fifthtribe"
    folder.mkdir(parents=True)
    with (folder / "tweets.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "username", "description", "location", "followers",
                         "numberstatuses", "time", "tweets"])  # fmt: skip
        for username, text in rows:
            writer.writerow(["n", username, "", "", "1", "1", "1/1/2016 00:00", text])


def test_fifth_tribe_annotation_gives_label_and_category_and_wins_over_the_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incitement = "Brothers in the West, strike the crusaders in their streets now"
    praise = "May Allah accept the martyrs of the blessed raid, what heroes they were"
    report = "ISIS claims it shot down a jet over the city today"
    unclear = "see the link below brothers, the full picture"
    unlabelled = "The lions of the Khilafah advance on every front today"
    _fifth_tribe_csv(tmp_path, [
        ("fan", incitement), ("fan", praise), ("fan", report), ("fan", unclear),
        ("fan", unlabelled), ("RamiAlLolah", unlabelled + " again"),
    ])  # fmt: skip
    notes = {
        tweet_key(incitement): Annotation("tvec", "TVEC8"),
        tweet_key(praise): Annotation("tvec", "TVEC7"),
        tweet_key(report): Annotation("news"),
        tweet_key(unclear): Annotation(None),
    }
    monkeypatch.setattr(post_annotations, "shipped", lambda name: notes)
    rows = {e.text: (e.label, e.category) for e in datasets.fifth_tribe(tmp_path)}
    assert rows == {
        incitement: ("tvec", "TVEC8"),
        praise: ("tvec", "TVEC7"),
        report: ("news", ""),
        unlabelled: ("tvec", ""),  # no annotation: the account rule (a supporter)
    }  # the unclear tweet and the excluded account's tweet are dropped


def test_shipped_fifth_tribe_file_covers_every_class_and_gives_tvec_a_category() -> None:
    notes = post_annotations.shipped(post_annotations.FIFTH_TRIBE_FILE)
    assert len(notes) >= 12_000
    assert all(len(key) == 16 and int(key, 16) >= 0 for key in notes)
    labels = [n.label for n in notes.values()]
    assert all(labels.count(label) > 0 for label in ("tvec", "news", "counter", "other", None))
    assert labels.count("news") > labels.count("tvec") > labels.count("counter")
    tvec = [n.category for n in notes.values() if n.label == "tvec"]
    assert len(tvec) > 2000 and all(c in weak_labels.CATEGORIES for c in tvec)
    assert {"TVEC2", "TVEC6", "TVEC7", "TVEC8"} <= set(tvec)
    assert tvec.count("TVEC7") > len(tvec) / 2
