"""Peers' labels (GIFCT hash-sharing behaviours, TCAP ideologies, ThreatExchange tags) → TVEC.

Every peer labels hashes in its own words. Policy, reports and statements of reasons speak the
Christchurch Call TVEC taxonomy only, so each entry gets one internal label mapped here, and the
peer's own labels travel beside it verbatim (`ExchangeEntry.source_labels`): a mapping that is
wrong or incomplete today can be redone later, because nothing a contributor said is dropped.

Matching is on a normalised key (lower case, runs of non-alphanumerics → `_`), with and without a
`namespace:` prefix, so `gifct:Glorification of terrorist acts`, `behavior/glorification` and
`GLORIFICATION` all land on TVEC7. A label that maps nowhere keeps the bank's label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from takedown.core.taxonomy import TvecLabel

# Keys are normalised (see `label_key`). Sources: GIFCT's hash-sharing taxonomy (behaviour-based
# labels and the Content Incident Protocol), TCAP's ideology field, ThreatExchange descriptor
# status words, and the TVEC codes themselves.
LABEL_TABLE: dict[str, TvecLabel] = {
    # credible threat to life (escalate)
    "imminent_credible_threat": TvecLabel.THREAT_TO_LIFE,
    "credible_threat": TvecLabel.THREAT_TO_LIFE,
    "threat_to_life": TvecLabel.THREAT_TO_LIFE,
    # branded / perpetrator-produced content
    "content_incident_protocol": TvecLabel.BRANDED,
    "cip": TvecLabel.BRANDED,
    "perpetrator_produced": TvecLabel.BRANDED,
    "attacker_manifesto": TvecLabel.BRANDED,
    "manifesto": TvecLabel.BRANDED,
    "livestream_of_attack": TvecLabel.BRANDED,
    "attack_livestream": TvecLabel.BRANDED,
    "graphic_violence_against_defenseless_people": TvecLabel.BRANDED,
    "terrorist_operated": TvecLabel.BRANDED,
    "branded": TvecLabel.BRANDED,
    "branded_terrorist_content": TvecLabel.BRANDED,
    "islamist": TvecLabel.BRANDED,
    "far_right": TvecLabel.BRANDED,
    # attack tactics
    "attack_tactics": TvecLabel.ATTACK_TACTICS,
    "tactics": TvecLabel.ATTACK_TACTICS,
    # material support
    "material_support": TvecLabel.MATERIAL_SUPPORT,
    "financing": TvecLabel.MATERIAL_SUPPORT,
    "terrorist_financing": TvecLabel.MATERIAL_SUPPORT,
    "fundraising": TvecLabel.MATERIAL_SUPPORT,
    # instructional
    "instruction": TvecLabel.INSTRUCTIONAL,
    "instructional": TvecLabel.INSTRUCTIONAL,
    "instructional_material": TvecLabel.INSTRUCTIONAL,
    "instruction_training": TvecLabel.INSTRUCTIONAL,
    "training": TvecLabel.INSTRUCTIONAL,
    # recruitment
    "recruitment": TvecLabel.RECRUITMENT,
    "recruitment_and_radicalisation": TvecLabel.RECRUITMENT,
    # support / praise
    "glorification": TvecLabel.PRAISE,
    "glorification_of_terrorist_acts": TvecLabel.PRAISE,
    "glorification_of_terrorist_acts_or_actors": TvecLabel.PRAISE,
    "praise": TvecLabel.PRAISE,
    "support_or_praise": TvecLabel.PRAISE,
    # incitement
    "incitement": TvecLabel.INCITEMENT,
    "incitement_to_violence": TvecLabel.INCITEMENT,
    # exceptions (human review)
    "news": TvecLabel.NEWS_EXCEPTION,
    "newsworthy": TvecLabel.NEWS_EXCEPTION,
    "documentary": TvecLabel.NEWS_EXCEPTION,
    "educational": TvecLabel.NEWS_EXCEPTION,
    "artistic": TvecLabel.NEWS_EXCEPTION,
    "counter_speech": TvecLabel.NEWS_EXCEPTION,
    # not TVEC
    "non_malicious": TvecLabel.NOT_TVEC,
    "not_tvec": TvecLabel.NOT_TVEC,
    "benign": TvecLabel.NOT_TVEC,
}
LABEL_TABLE.update({label.value.lower().replace(".", "_"): label for label in TvecLabel})

# When several labels map, the most urgent one wins: a threat to life outranks praise. A
# peer's news/documentary label comes next, so such a match goes to human review instead of
# automatic removal.
PRECEDENCE: tuple[TvecLabel, ...] = (
    TvecLabel.THREAT_TO_LIFE,
    TvecLabel.NEWS_EXCEPTION,
    TvecLabel.ATTACK_TACTICS,
    TvecLabel.INCITEMENT,
    TvecLabel.INSTRUCTIONAL,
    TvecLabel.MATERIAL_SUPPORT,
    TvecLabel.RECRUITMENT,
    TvecLabel.BRANDED,
    TvecLabel.PRAISE,
    TvecLabel.NOT_TVEC,
)

# The GIFCT-style word written for an internal label when an entry has no peer labels to echo.
EXPORT_NAMES: dict[TvecLabel, str] = {
    TvecLabel.NOT_TVEC: "non_malicious",
    TvecLabel.BRANDED: "perpetrator_produced",
    TvecLabel.THREAT_TO_LIFE: "imminent_credible_threat",
    TvecLabel.ATTACK_TACTICS: "attack_tactics",
    TvecLabel.MATERIAL_SUPPORT: "material_support",
    TvecLabel.INSTRUCTIONAL: "instruction_training",
    TvecLabel.RECRUITMENT: "recruitment",
    TvecLabel.PRAISE: "glorification_of_terrorist_acts",
    TvecLabel.INCITEMENT: "incitement_to_violence",
    TvecLabel.NEWS_EXCEPTION: "newsworthy",
}

_NON_WORD = re.compile(r"[^0-9a-z]+")
_PREFIX = re.compile(r"^[^:=/]*[:=/]")


def label_key(label: str) -> str:
    """The normalised form used for lookups: `Far-Right ` → `far_right`."""
    return _NON_WORD.sub("_", label.strip().lower()).strip("_")


def map_label(label: str) -> TvecLabel | None:
    """One peer label → TVEC, or None when the label says nothing we can map."""
    for candidate in (label, _PREFIX.sub("", label.strip(), count=1)):
        key = label_key(candidate)
        if key in LABEL_TABLE:
            return LABEL_TABLE[key]
    return None


def map_labels(labels: Iterable[str], *, default: TvecLabel | None = None) -> TvecLabel | None:
    """The most urgent TVEC label any of `labels` maps to; `default` when none maps."""
    mapped = {m for m in (map_label(label) for label in labels) if m is not None}
    for label in PRECEDENCE:
        if label in mapped:
            return label
    return default


def unmapped(labels: Iterable[str]) -> list[str]:
    """Labels kept verbatim but not understood, so operators can extend the table."""
    return [label for label in labels if map_label(label) is None]


def export_labels(source_labels: Iterable[str], label: TvecLabel | str | None) -> list[str]:
    """Labels to write for an entry: the peer's own, verbatim, else our label in GIFCT words."""
    kept = [s for s in source_labels if s]
    if kept:
        return kept
    if label is None:
        return []
    return [EXPORT_NAMES[TvecLabel(label)]]
