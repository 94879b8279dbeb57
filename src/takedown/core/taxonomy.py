"""Christchurch Call TVEC labels, used internally; mapped to peers' vocabularies at the edges.

Keeping one internal vocabulary means policy rules, reports and statements of reasons never
need to know which hub or regulator a label came from.
"""

from __future__ import annotations

from enum import StrEnum


class TvecLabel(StrEnum):
    NOT_TVEC = "TVEC0"
    BRANDED = "TVEC1"
    THREAT_TO_LIFE = "TVEC2"
    ATTACK_TACTICS = "TVEC3"
    MATERIAL_SUPPORT = "TVEC4"
    INSTRUCTIONAL = "TVEC5"
    RECRUITMENT = "TVEC6"
    PRAISE = "TVEC7"
    INCITEMENT = "TVEC8"
    NEWS_EXCEPTION = "TVEC.01"


DESCRIPTIONS: dict[TvecLabel, str] = {
    TvecLabel.NOT_TVEC: "not terrorist or violent extremist content",
    TvecLabel.BRANDED: "branded terrorist or perpetrator-produced content",
    TvecLabel.THREAT_TO_LIFE: "credible threat to life (escalate)",
    TvecLabel.ATTACK_TACTICS: "attack tactics",
    TvecLabel.MATERIAL_SUPPORT: "material support",
    TvecLabel.INSTRUCTIONAL: "instructional material",
    TvecLabel.RECRUITMENT: "recruitment",
    TvecLabel.PRAISE: "support or praise",
    TvecLabel.INCITEMENT: "incitement",
    TvecLabel.NEWS_EXCEPTION: "news, documentary, educational or artistic exception (review)",
}

# Labels whose presence means the content is terrorist content under policy.
VIOLATING: frozenset[TvecLabel] = frozenset(
    label for label in TvecLabel if label not in (TvecLabel.NOT_TVEC, TvecLabel.NEWS_EXCEPTION)
)


def parse_label(value: str) -> TvecLabel:
    """Accept `TVEC7`, `tvec7` or `7`, because operators type labels by hand in CLIs and CSVs."""
    from takedown.core.errors import InvalidInput

    text = value.strip().upper()
    if not text.startswith("TVEC"):
        text = f"TVEC{text}"
    try:
        return TvecLabel(text)
    except ValueError:
        allowed = ", ".join(label.value for label in TvecLabel)
        raise InvalidInput(
            f"unknown taxonomy label {value!r}", hint=f"use one of {allowed}"
        ) from None
