"""URL canonicalisation, extraction from text, url and domain signals (no network)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.core.content import ContentKind, make_submission
from takedown.core.errors import InvalidInput
from takedown.signals.url import (
    DomainSignal,
    UrlSignal,
    canonicalize_url,
    domain_of,
    extract_urls,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://WWW.Example.COM:443/a/./b/?utm_source=x&b=2&a=1&fbclid=z#top",
         "https://www.example.com/a/b?a=1&b=2"),
        ("http://example.com/", "https://example.com"),
        ("http://example.com:80/path/", "https://example.com/path"),
        ("example.com/x?gclid=1&utm_medium=social", "https://example.com/x"),
        ("http://münchen.de/Straße", "https://xn--mnchen-3ya.de/Stra%C3%9Fe"),
        ("https://example.com:8443/a/../b", "https://example.com:8443/b"),
        ("http://user:secret@example.com/p", "https://example.com/p"),
        ("https://example.com/p?q=a%20b", "https://example.com/p?q=a+b"),
        ("ftp://files.example.org:21/x", "ftp://files.example.org/x"),
        ("https://Example.com./Path", "https://example.com/Path"),
    ],
)
def test_canonical_forms(raw: str, canonical: str) -> None:
    assert canonicalize_url(raw) == canonical
    assert canonicalize_url(canonical) == canonical


@pytest.mark.parametrize("bad", ["", "javascript:alert(1)", "mailto:a@b.c", "http://", "x" * 5000,
                                 "http://[::1"])
def test_non_web_urls_are_invalid(bad: str) -> None:
    with pytest.raises(InvalidInput):
        canonicalize_url(bad)


def test_domain_drops_www_and_port() -> None:
    assert domain_of("https://WWW.Example.org:8080/x") == "example.org"
    assert domain_of("news.example.org") == "news.example.org"


def test_urls_are_found_in_text() -> None:
    text = ("Read it: http://t.co/73xFszsjvr, mirror at www.Example.org/issue-1?utm_campaign=x. "
            "Also dabiq.net/files). Mail me at a@b.com, version 1.2.3, see you.")
    assert extract_urls(text) == [
        "https://t.co/73xFszsjvr",
        "https://www.example.org/issue-1",
        "https://dabiq.net/files",
    ]


def test_signals_from_url_item_and_text() -> None:
    item = make_submission(item_id="u", kind=ContentKind.URL, url="http://www.example.org/a/",
                           text="also https://other.example.com/b?fbclid=1")
    urls = UrlSignal().extract(item)
    assert [(s.value, s.meta["source"]) for s in urls] == [
        ("https://www.example.org/a", "url"), ("https://other.example.com/b", "text")]
    domains = DomainSignal().extract(item)
    assert [s.value for s in domains] == ["example.org", "other.example.com"]


def test_text_posts_and_image_captions_yield_url_signals() -> None:
    for kind in (ContentKind.TEXT, ContentKind.IMAGE):
        item = make_submission(item_id="t", kind=kind, text="go to example.org/x now",
                               content=b"x" if kind is ContentKind.IMAGE else None)
        assert [s.value for s in UrlSignal().extract(item)] == ["https://example.org/x"]


def test_compare_uses_canonical_forms() -> None:
    assert UrlSignal().compare("http://Example.com/a/", "https://example.com/a?utm_source=1") == 0
    assert UrlSignal().compare("https://example.com/a", "https://example.com/b") == 1
    assert DomainSignal().compare("www.example.com", "EXAMPLE.com") == 0


_LABEL = st.text("abcxyz019", min_size=1, max_size=8)
_URLS = st.builds(
    lambda scheme, host, tld, port, path, query, frag: (
        f"{scheme}://{host}.{tld}{port}{path}{query}{frag}"
    ),
    st.sampled_from(["http", "https", "HTTP", "ftp"]),
    _LABEL,
    st.sampled_from(["com", "org", "ORG", "münchen", "xn--mnchen-3ya"]),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    st.lists(st.text("abc./-_%é", max_size=6), max_size=4).map(lambda p: "/" + "/".join(p)),
    st.lists(st.tuples(st.sampled_from(["a", "utm_source", "fbclid", "b", "Q"]),
                       st.text("xyz 1", max_size=3)), max_size=4)
    .map(lambda kv: ("?" + "&".join(f"{k}={v}" for k, v in kv)) if kv else ""),
    st.sampled_from(["", "#top", "#"]),
)


@settings(max_examples=200, deadline=None)
@given(_URLS)
def test_canonicalisation_is_idempotent(url: str) -> None:
    try:
        once = canonicalize_url(url)
    except InvalidInput:
        return
    assert canonicalize_url(once) == once
    assert "#" not in once and "utm_" not in once and "fbclid" not in once
    assert once == once.strip() and once.split("://", 1)[0] in ("https", "ftp")
