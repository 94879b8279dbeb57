"""Readers for the shared corpora, each yielding labelled `Example`s with a split *group*.

The group is the unit that may never straddle train and test: the Twitter account, the
newspaper, the forum user, the HateCheck template (all languages of one template together),
the CONAN hate-speech item (a hate text and all its answers and paraphrases together). The
labelling rules themselves live in `weak_labels`.

Per-source caps keep training and encoder time bounded on a small machine; sampling under a
cap uses a fixed seed, so `takedown model train` rebuilds the same model.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from takedown.classify import post_annotations, weak_labels
from takedown.classify.text import strip_artefacts, word_count
from takedown.core.errors import InvalidInput

SEED = 1337
NEWS_CHARS = 320
HEADLINE_CHARS = 160
"""News articles are cut to a post-sized lead (title + first sentences), the size of a post."""

csv.field_size_limit(10_000_000)


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    lang: str
    source: str
    group: str
    category: str = ""
    """TVEC category of a `tvec` row where its source tells it (see `movements.CATEGORY_*`)."""


def _csv_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _capped(examples: Iterable[Example], cap: int) -> list[Example]:
    """Deduplicate by text, then keep at most `cap` rows (seeded sample, order-independent)."""
    seen: dict[str, Example] = {}
    for ex in examples:
        if ex.text.strip() and ex.text not in seen:
            seen[ex.text] = ex
    rows = sorted(seen.values(), key=lambda e: (e.group, e.text))
    if len(rows) > cap:
        rows = random.Random(SEED).sample(rows, cap)
    return rows


def fifth_tribe(root: Path) -> list[Example]:
    out = []
    for row in _csv_rows(root / "isis-fanboy-tweets-fifthtribe" / "tweets.csv"):
        text = row["tweets"]
        note = post_annotations.lookup(post_annotations.FIFTH_TRIBE_FILE, text)
        label = note.label if note is not None else weak_labels.fifth_tribe_label(row["username"])
        if label is None or weak_labels.is_dropped_tweet(text):
            continue
        if word_count(strip_artefacts(text)) < weak_labels.MIN_TOKENS:
            continue
        arabic = sum("\u0600" <= c <= "\u06ff" for c in text) > len(text) / 4
        lang = "ar" if arabic else "en"
        category = note.category if note is not None else ""
        out.append(Example(text, label, lang, "fifthtribe", f"tw:{row['username']}", category))
    return _capped(out, 20_000)


def headline(text: str) -> str:
    """The first sentence (at most HEADLINE_CHARS): how news looks when shared as a short post."""
    first = re.split(r"(?<=[.!?؟])\s", text.strip(), maxsplit=1)[0]
    return first[:HEADLINE_CHARS]


LONG_CHARS = 1000
"""A text this long is "long-form" in the evaluation and is read in windows (`model.windows`)."""
LONG_NEWS_CAP = 300
FULL_NEWS_CHARS = 6000


def _long_articles(rows: list[tuple[str, Example]], cap: int = LONG_NEWS_CAP) -> list[Example]:
    """Whole articles (>= LONG_CHARS), in the same group as their lead: long-form news is what
    a statement or manifesto must be told apart from, and leads alone never show it."""
    full = [
        Example(text[:FULL_NEWS_CHARS], ex.label, ex.lang, ex.source, ex.group)
        for text, ex in rows
        if len(text) >= LONG_CHARS
    ]
    return _capped(full, cap)


def _with_headlines(rows: list[Example], cap: int) -> list[Example]:
    """Each article as a lead and, in the same group, as a headline-sized post.

    Short factual reports ("Police said 3 were killed in Baghdad") are the form in which news
    appears on a platform; without them the only short conflict reports in training are the
    supporters' tweets, and the model learns "short + killed" = `tvec`.
    """
    leads = _capped(rows, cap)
    heads = [Example(headline(e.text), e.label, e.lang, e.source, e.group) for e in leads]
    return leads + _capped(heads, cap)


def ag_news(root: Path) -> list[Example]:
    out = []
    for row in _csv_rows(root / "news-agnews-test" / "test.csv"):
        text = f"{row['title']}. {row['description']}"[:NEWS_CHARS]
        out.append(Example(text, "news", "en", "agnews", f"ag:{row['title'][:40]}"))
    return _with_headlines(out, 4000)


def saudi_news(root: Path) -> list[Example]:
    out = []
    whole = []
    folder = root / "news-saudinewsnet-ar"
    for path in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if not name.endswith(".json"):
                    continue
                for art in json.loads(archive.read(name)):
                    text = f"{art.get('title', '')}. {art.get('content', '')}"
                    group = f"sn:{art['source']}"
                    ex = Example(text[:NEWS_CHARS], "news", "ar", "saudinewsnet", group)
                    out.append(ex)
                    whole.append((text, ex))
    return _with_headlines(out, 3000) + _long_articles(whole)


def gnad(root: Path) -> list[Example]:
    out = []
    whole = []
    path = root / "news-10kgnad-de-test" / "test.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for i, row in enumerate(csv.reader(handle, delimiter=";", quotechar="'")):
            if len(row) >= 2:
                ex = Example(row[1][:NEWS_CHARS], "news", "de", "10kgnad", f"gn:{i}")
                out.append(ex)
                whole.append((row[1], ex))
    return _with_headlines(out, 2000) + _long_articles(whole)


def conan(root: Path) -> list[Example]:
    folder = root / "conan-counter-narratives"
    counter: list[Example] = []
    hate: list[Example] = []
    for row in _csv_rows(folder / "CONAN.csv"):
        cid = row["cn_id"]
        lang = cid[:2].lower()
        group = "cn:" + cid.split("CN")[0]
        counter.append(Example(row["counterSpeech"], "counter", lang, "conan", group))
        hate.append(Example(row["hateSpeech"], "other", lang, "conan", group))
    for row in _csv_rows(folder / "Multitarget-CONAN.csv"):
        group = "mt:" + row["HATE_SPEECH"][:60]
        counter.append(Example(row["COUNTER_NARRATIVE"], "counter", "en", "mtconan", group))
        hate.append(Example(row["HATE_SPEECH"], "other", "en", "mtconan", group))
    for row in _csv_rows(folder / "DIALOCONAN.csv"):
        group = f"dc:{row['source']}:{row['dialogue_id']}"
        target = counter if row["type"] == "CN" else hate
        label = "counter" if row["type"] == "CN" else "other"
        target.append(Example(row["text"], label, "en", "dialoconan", group))
    by_lang: dict[tuple[str, str], list[Example]] = {}
    for ex in counter + hate:
        by_lang.setdefault((ex.label, ex.lang), []).append(ex)
    out = []
    for (label, _lang), rows in sorted(by_lang.items()):
        out += _capped(rows, 3500 if label == "counter" else 1500)
    return out


def mlma(root: Path) -> list[Example]:
    out = []
    with zipfile.ZipFile(root / "mlma-hate-speech" / "hate_speech_mlma.zip") as archive:
        for lang in ("en", "fr", "ar"):
            raw = archive.read(f"hate_speech_mlma/{lang}_dataset.csv").decode("utf-8")
            rows = [
                Example(r["tweet"], "other", lang, "mlma", f"ml:{lang}:{r['HITId']}")
                for r in csv.DictReader(io.StringIO(raw))
                if word_count(strip_artefacts(r["tweet"])) >= weak_labels.MIN_TOKENS
            ]
            out += _capped(rows, 3000)
    return out


def stormfront(root: Path) -> list[Example]:
    folder = root / "stormfront-hate-speech"
    out = []
    for row in _csv_rows(folder / "annotations_metadata.csv"):
        if row["label"] not in ("hate", "noHate"):
            continue
        path = folder / "all_files" / f"{row['file_id']}.txt"
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        if word_count(text) >= weak_labels.MIN_TOKENS:
            out.append(Example(text, "other", "en", "stormfront", f"sf:{row['user_id']}"))
    return _capped(out, 3000)


HATECHECK_OTHER_CAP = 1200
"""Templated hate tests are many near-copies; a cap keeps them from swamping natural text."""
MHC_LANGS = {"arabic": "ar", "french": "fr", "german": "de", "italian": "it"}


def _template_id(value: str) -> str:
    """HateCheck writes template ids as "12", MHC as "12.0"."""
    return value.split(".")[0]


def _hatecheck_rows(rows: list[dict[str, str]], lang: str, source: str) -> list[Example]:
    threats = {
        _template_id(r["templ_id"]): r["functionality"]
        for r in rows
        if r["functionality"] in weak_labels.THREAT_FUNCTIONALITIES
    }
    out = []
    for row in rows:
        ref = _template_id(row.get("ref_templ_id") or "")
        label = weak_labels.hatecheck_label(row["functionality"], threat_variant=ref in threats)
        group = f"hc:{source}:{ref or _template_id(row['templ_id'])}"
        kind = threats.get(ref, row["functionality"])
        category = weak_labels.hatecheck_category(kind) if label == "tvec" else ""
        out.append(Example(row["test_case"], label, lang, source, group, category))
    return out


def hatecheck(root: Path) -> list[Example]:
    rows = list(_csv_rows(root / "hatecheck-en" / "test_suite_cases.csv"))
    out = _hatecheck_rows(rows, "en", "hatecheck")
    for name, lang in MHC_LANGS.items():
        path = root / "multilingual-hatecheck" / f"hatecheck_cases_final_{name}.csv"
        out += _hatecheck_rows(list(_csv_rows(path)), lang, "mhc")
    by_key: dict[tuple[str, str], list[Example]] = {}
    for ex in out:
        by_key.setdefault((ex.label, ex.lang), []).append(ex)
    return [ex for key, rows in sorted(by_key.items()) for ex in _capped(rows, HATECHECK_OTHER_CAP)]


LOADERS = (fifth_tribe, ag_news, saudi_news, gnad, conan, mlma, stormfront, hatecheck)
"""The original corpora; `movements.LOADERS` adds the far-right and Arabic ISIS sets."""


def load_all(root: Path, extra: Path | None = None) -> list[Example]:
    """Every source, weak-labelled; a missing corpus is a clear error, not a silent gap.

    `extra`: a folder of texts the repository may not carry (`statements`); without one,
    those rows are simply absent."""
    if not (root / "isis-fanboy-tweets-fifthtribe").is_dir():
        raise InvalidInput(
            f"{root} does not hold the shared corpora",
            hint="pass --data pointing at the shared data folder (with */SOURCE.md)",
        )
    from takedown.classify import movements, statements

    examples: list[Example] = []
    for loader in (*LOADERS, *movements.LOADERS):
        examples += loader(root)
    examples += statements.load_extra(statements.extra_root(extra))
    return [_with_category(ex) for ex in examples]


def _with_category(ex: Example) -> Example:
    """Every `tvec` row gets a category: its source's, else the broad praise/support one."""
    if ex.label != "tvec" or ex.category:
        return ex
    category = weak_labels.default_category(ex.text)
    return Example(ex.text, ex.label, ex.lang, ex.source, ex.group, category)


SPLIT_SHARES: tuple[tuple[str, float], ...] = (("test", 0.20), ("cal", 0.15))
"""Row shares per stratum; the rest is train."""


MIN_GROUPS_FOR_CAL = 4
"""A stratum of fewer groups (two news accounts) gives one to test and the rest to train."""


def _rank(group: str) -> str:
    return hashlib.sha256(f"{SEED}:{group}".encode()).hexdigest()


HOLDOUT_SOURCES: frozenset[str] = frozenset({"gab"})
"""Sources never trained or calibrated on: every group goes to test, the fairest measure of
how the model reads a platform it has never seen (the Gab Hate Corpus: English far-right
chatter, hate speech and calls for violence)."""


def split_groups(examples: Iterable[Example]) -> dict[str, str]:
    """Group -> split, stratified by (source, majority label), whole groups only.

    Groups are taken in a seeded hash order within each stratum and poured into test, then
    calibration, until each holds its share of the stratum's rows. Stratifying matters where
    a stratum has few, large groups (7 news accounts): a plain hash split can leave every
    one of them in train, and then calibration never sees the hardest negatives.
    """
    sizes: Counter[str] = Counter()
    labels: dict[str, Counter[str]] = {}
    source: dict[str, str] = {}
    for ex in examples:
        sizes[ex.group] += 1
        labels.setdefault(ex.group, Counter())[ex.label] += 1
        source[ex.group] = ex.source
    strata: dict[tuple[str, str], list[str]] = {}
    out_holdout: dict[str, str] = {}
    for group, counts in labels.items():
        if source[group] in HOLDOUT_SOURCES:
            out_holdout[group] = "test"
            continue
        majority = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        strata.setdefault((source[group], majority), []).append(group)
    out: dict[str, str] = dict(out_holdout)
    for _, groups in sorted(strata.items()):
        if len(groups) < MIN_GROUPS_FOR_CAL:
            ordered = sorted(groups, key=_rank)
            out.update(
                {
                    g: "test" if i == 0 and len(groups) > 1 else "train"
                    for i, g in enumerate(ordered)
                }
            )
            continue
        total = sum(sizes[g] for g in groups)
        filled = dict.fromkeys([name for name, _ in SPLIT_SHARES], 0)
        for group in sorted(groups, key=_rank):
            target = next(
                (name for name, share in SPLIT_SHARES if filled[name] < share * total), "train"
            )
            out[group] = target
            if target != "train":
                filled[target] += sizes[group]
    return out


def split(examples: Iterable[Example]) -> dict[str, list[Example]]:
    rows = list(examples)
    assignment = split_groups(rows)
    out: dict[str, list[Example]] = {"train": [], "cal": [], "test": []}
    for ex in rows:
        out[assignment[ex.group]].append(ex)
    return out
