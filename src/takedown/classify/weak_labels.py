"""Weak-labelling rules: how rows of the shared corpora become `tvec`/`news`/`counter`/`other`.

None of the corpora is labelled for our four classes, so every rule here is a judgement written
down where a reviewer can challenge it (models/MODEL_CARD.md repeats them in prose).

Fifth Tribe "How ISIS Uses Twitter" only labels *accounts* ("pro-ISIS fanboys") and its SOURCE.md
warns that some accounts are news/OSINT or anti-ISIS. Rules, by account (username):

* NEWS_ACCOUNTS: self-described news/OSINT reporters whose timelines are mostly relayed conflict
  reporting from several sides -> `news`. SOURCE.md also names RamiAlLolah and Nidalgazaui as
  news/OSINT, but their timelines mix reporting with partisan cheering ("TAKBEER", "YPG pigs"),
  found in an error analysis of a first model: they are excluded, not `news`. warreporter2,
  Freedom_speech2 and freelance_112 call themselves reporters but relay pro-IS material
  (Amaq, "rawafidh"): they keep the collection's label, `tvec`.
* OTHER_ACCOUNTS: the anti-ISIS troll account (chat and mockery, little argument) -> `other`.
* EXCLUDED_ACCOUNTS: analysts, "journalists" and mixed timelines whose stance we could not judge
  from a sample of tweets -> left out of training *and* evaluation (neither side gets their noise).
* every other account -> `tvec`, tweet by tweet. This is noisy on purpose: much of a supporter's
  timeline is chat or religious reminders, so tvec recall on these splits is a lower bound on
  recall for propaganda proper, and precision is measured against real negatives.
* tweets with fewer than MIN_TOKENS word tokens after removing URLs/@mentions/RT are dropped
  (they carry no content, only dataset artefacts).
* replies (a tweet that starts with an @mention) are dropped: they are conversation, whose
  meaning depends on a tweet we do not have, not broadcast content.
* retweets of a NEWS_ACCOUNTS account by anyone are dropped: their text is that reporter's,
  and keeping them would put one account's words on both sides of the split.

HateCheck / Multilingual HateCheck are templated hate-speech tests, not terrorism. Rules, by
functionality: direct and normative *threats of violence* against a group (`threat_dir_h`,
`threat_norm_h`), and hateful variants of a threat template (spelling, phrasing, reference
tests whose `ref_templ_id` is a threat template) -> `tvec` (the issue's `tvec` covers threats
and incitement; these are the only non-English violent-threat texts we have); counter-speech
that quotes or references hate (`counter_quote_nh`, `counter_ref_nh`) -> `counter`; all other
cases (hateful or not) -> `other`. Hate speech that is not a threat is a different policy
(hate speech, not TVEC), so it is `other`.

CONAN family: counter-narratives -> `counter`; the hate speech they answer -> `other`.
MLMA tweets (offensive/hateful/normal) and Stormfront sentences -> `other`.
News corpora (AG News, SaudiNewsNet, 10kGNAD) -> `news`, all sections (the class is the
journalistic register incl. its terrorism coverage, not only terror stories).
"""

from __future__ import annotations

NEWS_ACCOUNTS: frozenset[str] = frozenset({"WarReporter1", "warrnews"})

OTHER_ACCOUNTS: frozenset[str] = frozenset({"Uncle_SamCoco"})

EXCLUDED_ACCOUNTS: frozenset[str] = frozenset(
    {
        "mobi_ayubi",
        "MaghrabiArabi",
        "ismailmahsud",
        "__alfresco__",
        "ro34th",
        "NaseemAhmed50",
        "QassamiMarwan",
        "lNSlDEWAR",
        "war_analysis",
        "murasil1",
        "MaghrebiQM",
        "MaghrebiWM",
        "MaghrebiHD",
        "MaghrebiQ",
        "wayf44rerr",
        "wayyf44rer",
        "wayff44rer",
        "_IshfaqAhmad",
        "sonofshishan",
        "RamiAlLolah",
        "Nidalgazaui",
    }
)

MIN_TOKENS = 3

THREAT_FUNCTIONALITIES: frozenset[str] = frozenset({"threat_dir_h", "threat_norm_h"})
COUNTER_FUNCTIONALITIES: frozenset[str] = frozenset({"counter_quote_nh", "counter_ref_nh"})


def fifth_tribe_label(username: str) -> str | None:
    """The weak label of every tweet from one account, or None when the account is excluded."""
    if username in EXCLUDED_ACCOUNTS:
        return None
    if username in NEWS_ACCOUNTS:
        return "news"
    if username in OTHER_ACCOUNTS:
        return "other"
    return "tvec"


def is_dropped_tweet(text: str) -> bool:
    """Replies and retweets of news accounts (see the module docstring)."""
    stripped = text.lstrip()
    if stripped.startswith("@"):
        return True
    return any(stripped.startswith(f"RT @{name}") for name in NEWS_ACCOUNTS)


def hatecheck_label(functionality: str, *, threat_variant: bool = False) -> str:
    """Map a (Multilingual) HateCheck functionality to our classes.

    `threat_variant`: the case is derived from a threat template (its `ref_templ_id`).
    """
    if functionality in THREAT_FUNCTIONALITIES:
        return "tvec"
    if threat_variant and functionality.endswith("_h"):
        return "tvec"
    if functionality in COUNTER_FUNCTIONALITIES:
        return "counter"
    return "other"
