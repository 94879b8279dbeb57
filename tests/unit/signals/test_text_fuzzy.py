"""TLSH and MinHash near-duplicate signals."""

from __future__ import annotations

import pytest
from datasketch import MinHashLSH

from takedown.core.content import ContentKind, make_submission
from takedown.core.errors import InvalidInput
from takedown.signals.text_fuzzy import (
    MINHASH_THRESHOLD,
    TLSH_THRESHOLD,
    MinHashSignal,
    TlshSignal,
    minhash_distance,
    minhash_object,
    minhash_value,
    tlsh_distance,
    tlsh_hash,
)

POST = (
    "Brothers, the new issue of the magazine is out now. Read it, share it with everyone you "
    "know, and do not let them silence the message. Download before it is deleted again."
)
EDITED = POST.replace("everyone you know", "all of your friends") + " Spread it widely."
EVASIVE = "Br\u043eth\u0435rs, th\u0435 n\u0435w i$$u\u0435 of th\u0435 m4g4zin\u0435" + POST[39:]
OTHER = (
    "The city council meets on Tuesday to discuss the new cycling lanes, the library budget "
    "and a proposal to extend the opening hours of the public swimming pool in summer."
)


def test_tlsh_matches_an_edited_copy_and_not_other_text() -> None:
    a, b, c = tlsh_hash(POST), tlsh_hash(POST.replace("magazine", "journal")), tlsh_hash(OTHER)
    assert a and b and c
    assert tlsh_distance(a, b) <= TLSH_THRESHOLD < tlsh_distance(a, c)


def test_minhash_matches_an_edited_copy_and_not_other_text() -> None:
    a, b, c = minhash_value(POST), minhash_value(EDITED), minhash_value(OTHER)
    assert a and b and c
    assert minhash_distance(a, b) <= MINHASH_THRESHOLD < minhash_distance(a, c)


def test_evasion_is_undone_before_fuzzy_hashing() -> None:
    assert minhash_distance(minhash_value(POST) or "", minhash_value(EVASIVE) or "") == 0
    assert tlsh_distance(tlsh_hash(POST) or "", tlsh_hash(EVASIVE) or "") == 0


def test_short_text_has_no_tlsh_but_has_minhash() -> None:
    item = make_submission(item_id="s", kind=ContentKind.TEXT, text="join us now")
    assert TlshSignal().extract(item) == []
    signals = MinHashSignal().extract(item)
    assert len(signals) == 1 and signals[0].value.startswith("mh64:")


def test_minhash_value_rebuilds_a_datasketch_minhash_for_lsh() -> None:
    lsh = MinHashLSH(threshold=0.5, num_perm=64)
    lsh.insert("post", minhash_object(minhash_value(POST)))
    lsh.insert("other", minhash_object(minhash_value(OTHER)))
    assert lsh.query(minhash_object(text=EDITED)) == ["post"]


@pytest.mark.parametrize("bad", ["", "mh64:zz", "mh64:" + "00" * 10, "T1abc"])
def test_malformed_minhash_is_invalid_input(bad: str) -> None:
    with pytest.raises(InvalidInput):
        minhash_distance(bad, minhash_value(POST) or "")


def test_malformed_tlsh_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        tlsh_distance("nonsense", tlsh_hash(POST) or "")
