"""The exact index: equality only, case-insensitive hex, replace and tombstone semantics."""

from __future__ import annotations

import hashlib

import pytest

from takedown.core.errors import InvalidInput
from takedown.index.base import Index
from takedown.index.exact import ExactIndex


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_equal_values_match_and_others_do_not() -> None:
    index = ExactIndex("sha256")
    index.add(1, digest("a"))
    index.add(2, digest("a"))
    index.add(3, digest("b"))
    assert index.query(digest("a").upper(), 0) == [(0, 1), (0, 2)]
    assert index.query(digest("c"), 0) == []
    assert index.query_many([digest("b"), digest("c")], 0) == [[(0, 3)], []]
    assert len(index) == 3


def test_add_replaces_and_remove_reports_presence() -> None:
    index = ExactIndex("md5")
    index.add(1, "AA")
    index.add(1, "bb")
    assert index.query("aa") == []
    assert index.query("BB") == [(0, 1)]
    assert index.remove(1) is True
    assert index.remove(1) is False
    assert index.query("bb") == [] and len(index) == 0


def test_bad_input_is_refused() -> None:
    index = ExactIndex()
    with pytest.raises(InvalidInput):
        index.add(1, 123)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        index.query("aa", -1)


def test_meets_the_index_protocol() -> None:
    assert isinstance(ExactIndex(), Index)


def test_factory_picks_the_index_by_signal_type() -> None:
    from takedown.index.factory import make_index
    from takedown.index.pdq import PdqIndex

    assert isinstance(make_index("pdq"), PdqIndex)
    md5 = make_index("md5")
    assert isinstance(md5, ExactIndex) and md5.signal_type == "md5"
    assert all(isinstance(make_index(name), Index) for name in ("pdq", "sha256", "text_sha256"))
