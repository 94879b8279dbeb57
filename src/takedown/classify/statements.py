"""Texts from outside the shared data folder, read from a local path: long-form statements
here, and the GermEval posts (`germeval`).

The shared corpora are posts; the propaganda a platform must also remove includes formal
statements, sermons and founding charters, pages long. These readers take such texts from a
folder the operator names (`takedown model train --extra-data DIR`, or $TAKEDOWN_EXTRA_DATA):
their licences do not let the repository carry them, and a missing folder only means fewer
rows (the shared corpora stay required). Provenance and labels: docs/annotation.md,
"Long-form statements".

- `syria_statements`: founding statements and self-descriptions of 70-odd groups of the
  Syrian conflict (Donker 2021, github.com/teijehidde/Islamism-as-Discursive-Practice,
  Arabic). Groups designated as terrorist (Islamic State, al-Nusra / Jabhat Fateh al-Sham /
  Hay'at Tahrir al-Sham, Jund al-Aqsa, Harakat Sham al-Islam, Katibat al-Tawhid wal-Jihad)
  or sworn to one (Khalid ibn al-Walid Army, pledged to IS) -> `tvec`: the group's own voice
  glorifying its fight. Opposition councils, parties, the Free Syrian Army's brigades and the
  Kurdish forces -> `other`: the same register, formal and often martial, without terrorism.
  Salafi-jihadist groups whose designation is contested (Ahrar al-Sham, Jaysh al-Islam, ...)
  are left out rather than guessed. Split group: the organisation.

Each document trains whole (a long text, read in windows) and as passages of a few hundred
characters (the length of a quoted paragraph).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from takedown.classify.datasets import Example, _capped
from takedown.classify.germeval import germeval_violence

EXTRA_ENV = "TAKEDOWN_EXTRA_DATA"
SYRIA_FOLDER = "syria-group-statements"
SYRIA_TVEC: frozenset[str] = frozenset({"Daesh", "NF", "JFS", "HTS", "JA", "KbWA", "HSI", "TWB"})
SYRIA_LEFT_OUT: frozenset[str] = frozenset(
    {"AaS", "JaI", "ADF", "MAA", "AoC", "IF", "SIF", "ASB", "LaH", "SaS", "HFI", "GaS", "AM"}
)
PASSAGE_MIN = 300
PASSAGE_MAX = 1200
WHOLE_MAX = 9000
OTHER_CAP = 200
"""The non-terrorist groups' statements outnumber the designated groups' seven to one; capped,
they teach "formal Arabic statement" is no sign of either class."""


def extra_root(explicit: Path | None = None) -> Path | None:
    """The extra-data folder: the option, else the environment, else none."""
    if explicit is not None:
        return explicit
    env = os.environ.get(EXTRA_ENV)
    return Path(env) if env else None


def passages(text: str) -> list[str]:
    """Consecutive paragraphs joined until PASSAGE_MIN characters, cut at PASSAGE_MAX."""
    out: list[str] = []
    current = ""
    for para in (p.strip() for p in text.splitlines()):
        if not para:
            continue
        current = f"{current}\n{para}" if current else para
        if len(current) >= PASSAGE_MIN:
            out.append(current[:PASSAGE_MAX])
            current = ""
    if len(current) >= PASSAGE_MIN // 2:
        out.append(current[:PASSAGE_MAX])
    return out


def syria_statements(root: Path) -> list[Example]:
    folder = root / SYRIA_FOLDER
    meta = folder / "support_files" / "document_metadata.csv"
    if not meta.is_file():
        return []
    out: list[Example] = []
    with meta.open(encoding="utf-8", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: r["file_name"])
    for row in rows:
        org = row["org_abbreviated"].strip()
        path = folder / "corpus" / row["file_name"]
        if org in SYRIA_LEFT_OUT or not path.is_file():
            continue
        label = "tvec" if org in SYRIA_TVEC else "other"
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        group = f"sy:{org}"
        out.append(Example(text[:WHOLE_MAX], label, "ar", "syria_statements", group))
        out += [Example(p, label, "ar", "syria_statements", group) for p in passages(text)]
    unique = list({ex.text: ex for ex in out}.values())
    other = _capped([e for e in unique if e.label != "tvec"], OTHER_CAP)
    return [e for e in unique if e.label == "tvec"] + other


LOADERS = (syria_statements, germeval_violence)
"""Every reader of the extra folder; `germeval` (German far-right posts annotated for violent
statements) has its own module."""


def load_extra(root: Path | None) -> list[Example]:
    """Every reader's rows from the extra folder (none without a folder)."""
    if root is None:
        return []
    return [ex for loader in LOADERS for ex in loader(root)]
