"""Per-post annotations shipped with the package: digest -> (label, TVEC category).

Channel and account labels are provenance, not content (docs/annotation.md), so every Fifth
Tribe tweet, every post of the far-right Telegram channels and every Alfifi Arabic tweet was
read on its own under the codebook and its letter stored here, keyed by `weak_labels.tweet_key`
of the raw text: the repository holds no post text, and a correction is a one-line diff.

File format, one post a line: `digest<TAB>letter[<TAB>category]`, letter T/N/C/O/U
(`weak_labels.ANNOTATION_CODES`), category TVEC2/5/6/7/8 on T lines or `-`. A post the file
does not list keeps its source's fallback rule (the channel word list, the account;
`weak_labels.fifth_tribe_label` for a Fifth Tribe tweet).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from takedown.classify.weak_labels import ANNOTATION_CODES, CATEGORIES, tweet_key
from takedown.core.errors import InvalidInput

FIFTH_TRIBE_FILE = "fifthtribe_annotations.tsv"
FARRIGHT_FILE = "farright_annotations.tsv"
ALFIFI_FILE = "alfifi_annotations.tsv"


@dataclass(frozen=True)
class Annotation:
    label: str | None
    """`tvec`/`news`/`counter`/`other`, or None: the annotator could not tell (row dropped)."""
    category: str = ""
    """The TVEC category the annotator gave a `tvec` post ("" where none was given)."""


def parse(lines: list[str], name: str) -> dict[str, Annotation]:
    """Digest -> annotation; a malformed line is an error naming the file and line."""
    out: dict[str, Annotation] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.rstrip("\n").split("\t")
        if len(cells) not in (2, 3) or cells[1] not in ANNOTATION_CODES:
            raise InvalidInput(f"{name}:{number}: expected digest, letter T/N/C/O/U, category")
        label = ANNOTATION_CODES[cells[1]]
        category = cells[2] if len(cells) == 3 and cells[2] in CATEGORIES else ""
        out[cells[0]] = Annotation(label, category if label == "tvec" else "")
    return out


@cache
def shipped(name: str) -> dict[str, Annotation]:
    """The annotations in the package file `name` (empty when the file is absent)."""
    path = resources.files("takedown.classify").joinpath(name)
    if not path.is_file():
        return {}
    return parse(path.read_text(encoding="utf-8").splitlines(), name)


def lookup(name: str, text: str) -> Annotation | None:
    """The annotation of one raw post text, or None when the post was not annotated."""
    return shipped(name).get(tweet_key(text))
