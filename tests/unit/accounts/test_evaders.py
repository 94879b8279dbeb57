"""Ban-evader linking: a comeback under an edited name is found through the index, with
evidence per signal; unrelated accounts and single weak signals stay below review."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.accounts.evaders import EvaderIndex, Fingerprint, compare

AVATAR = "a5" * 32


def _flip(hex_value: str, bits: int) -> str:
    value = int(hex_value, 16) ^ ((1 << bits) - 1)
    return f"{value:064x}"


def _index() -> EvaderIndex:
    index = EvaderIndex()
    index.add(Fingerprint.of("old", display_name="Abu Qaqa al-Shami",
                             bio="Soldier of the caliphate. Baqiyah. Retweet before they delete",
                             avatar_pdq=AVATAR, urls=["https://nashir.example/r/1"],
                             neighbours=["n1", "n2", "n3", "n4"]))
    for n in range(50):
        index.add(Fingerprint.of(f"other{n}", display_name=f"Random Person {n}",
                                 bio=f"likes tea number {n}", avatar_pdq=_flip("00" * 32, n)))
    return index


def test_a_homoglyph_renamed_comeback_with_an_edited_avatar_is_linked_with_evidence() -> None:
    new = Fingerprint.of("new", display_name="Аbu_Qаqа_al-Shami 2",
                         bio="Soldier of the caliphate. Baqiyah. back again",
                         avatar_pdq=_flip(AVATAR, 20), neighbours=["n1", "n2", "x"])
    links = _index().links(new)
    assert links and links[0].suspended_id == "old" and links[0].score >= 0.8
    evidence = links[0].evidence
    assert evidence["avatar"]["pdq_distance"] == 20
    assert evidence["display_name"]["similarity"] > 0.6
    assert evidence["neighbours"]["shared"] == 2


def test_an_unrelated_account_has_no_link_and_one_weak_signal_stays_below_review() -> None:
    index = _index()
    assert index.links(Fingerprint.of("u", display_name="Harbour Bakery",
                                      bio="fresh bread daily")) == []
    url_only = Fingerprint.of("v", display_name="News Reader",
                              urls=["https://nashir.example/r/1", "https://a.example/1",
                                    "https://b.example/2"])
    score, _ = compare(url_only, Fingerprint.of("old", urls=["https://nashir.example/r/1"]))
    assert score < 0.5


def test_removing_a_reinstated_account_stops_it_matching() -> None:
    index = _index()
    assert "old" in index and index.remove("old") and "old" not in index
    assert all(link.suspended_id != "old" for link in index.links(
        Fingerprint.of("new", display_name="Abu Qaqa al-Shami", avatar_pdq=AVATAR)))


@settings(max_examples=12, deadline=None)
@given(st.text(min_size=3, max_size=40), st.integers(0, 30))
def test_the_index_finds_every_suspended_account_an_exact_scan_would(name: str, bits: int
                                                                       ) -> None:
    """Candidate generation is sub-linear yet misses nothing the full comparison would link
    on avatar alone (within the candidate distance)."""
    index = _index()
    probe = Fingerprint.of("probe", display_name=name, avatar_pdq=_flip(AVATAR, bits))
    found = {link.suspended_id for link in index.links(probe, min_score=0.0)}
    assert "old" in found


def test_a_shared_boilerplate_bio_and_name_alone_never_reach_suspension() -> None:
    """Strangers share template bios ("Breaking news and analysis"); without an avatar, media,
    URL or contact in common the link is capped below the default suspension threshold."""
    same = Fingerprint.of("a", display_name="Daily Ledger", bio="Breaking news and analysis")
    score, evidence = compare(same, Fingerprint.of("b", display_name="Daily Ledger",
                                                   bio="Breaking news and analysis"))
    assert score < 0.8 and "capped" in evidence
