"""GermEval 2026 "Harmful Content Detection": German posts from a far-right movement, each
annotated for violent statements, read from the extra-data folder (`statements.load_extra`).

The far-right German propaganda the shared data holds is a few hundred official Telegram
posts; what a German platform mostly has to remove is its followers' calls to violence,
written in their own words. These posts and comments of a right-wing extremist movement
(12/2014–07/2016, plus later rows with short ids) were labelled by three to four annotators at
Mittweida University of Applied Sciences (majority label), in the subtask *vio*:

- `call2violence` (inciting others to violence) -> `tvec`, TVEC8 incitement;
- `prospensity` (sic: the writer's own will to use violence) -> `tvec`, TVEC2 threat;
- `support`, `glorification` (approval or glorification of violence) -> `tvec`, TVEC7;
- `other` (worrying, but none of these) -> left out rather than guessed;
- `nothing` -> `other`: the same milieu's insults, xenophobia and lawful calls to protest
  without violence, the hardest negatives a German far-right slice has. A `nothing` post the
  *dbo* subtask calls `subversive` (will to overthrow the state by force) or `agitation`
  (spreading banned organisations' propaganda) is left out too; capped at `OTHER_CAP`.

Origin: github.com/Communication-Forensics-Lab/harmful-content-detection, commit 807e1bf,
`GermEval2026/data/{vio,dbo}/*_train_26.csv` (the repository's licence is GPL-3.0; the posts
are real users' words, so the repository carries none of them). Put both files at
`DIR/germeval-harmful/`. Mentions are pseudonymised ([@IND], [@POL], ...). No author ids:
one row per split group, as for Latent Hatred.
"""

from __future__ import annotations

import csv
from pathlib import Path

from takedown.classify.datasets import Example, _capped
from takedown.classify.movements import _row_group

FOLDER = "germeval-harmful"
VIO_FILE = "vio_train_26.csv"
DBO_FILE = "dbo_train_26.csv"
CATEGORIES: dict[str, str] = {
    "call2violence": "TVEC8",
    "prospensity": "TVEC2",
    "propensity": "TVEC2",
    "support": "TVEC7",
    "glorification": "TVEC7",
}
DBO_LEFT_OUT: frozenset[str] = frozenset({"subversive", "agitation"})
OTHER_CAP = 3000
SOURCE = "germeval"


def _labels(path: Path, column: str) -> dict[str, tuple[str, str]]:
    """id -> (text, label) of one subtask file (`;`-separated, header id;description;label)."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["id"]: (row["description"], row[column].strip().lower())
            for row in csv.DictReader(handle, delimiter=";")
            if row.get("description")
        }


def germeval_violence(root: Path) -> list[Example]:
    folder = root / FOLDER
    vio = _labels(folder / VIO_FILE, "vio")
    dbo = _labels(folder / DBO_FILE, "dbo")
    hits: list[Example] = []
    other: list[Example] = []
    for post_id, (text, label) in sorted(vio.items()):
        group = _row_group("ge", text)
        if label in CATEGORIES:
            hits.append(Example(text, "tvec", "de", SOURCE, group, CATEGORIES[label]))
        elif label == "nothing" and dbo.get(post_id, ("", ""))[1] not in DBO_LEFT_OUT:
            other.append(Example(text, "other", "de", SOURCE, group))
    return _capped(hits, 10_000) + _capped(other, OTHER_CAP)
