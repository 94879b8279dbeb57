"""URL and domain signals: canonical links, so re-shared propaganda links match a URL bank.

`canonicalize_url` lower-cases scheme and host, writes `http` as `https` (the same page for
matching purposes), converts internationalised hosts to punycode
(IDNA), drops default ports, user info, fragments, tracking parameters (utm_*, fbclid, gclid,
...) and trailing slashes, resolves `.`/`..` path segments and sorts the remaining query
parameters. Nothing is fetched: shorteners are matched as they are written.

`url` signals carry the canonical URL; `domain` signals the host without `www.` (a cheap
"registered domain" that needs no public-suffix list; a bank entry `example.org` matches
`example.org` only, not subdomains — list those separately). URLs inside any text (captions,
posts) are extracted and signalled too, bare `example.org/path` forms included.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from takedown.core.content import ContentKind, Submission, make_submission
from takedown.core.errors import InvalidInput
from takedown.core.signals import Signal

ALL_KINDS = frozenset(ContentKind)
DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
    "mc_cid", "mc_eid", "_ga", "_gl", "ref_src", "ref_url", "si", "s_cid", "spm", "mkt_tok",
    "oly_anon_id", "oly_enc_id", "vero_id", "rb_clickid", "ttclid", "li_fat_id",
})
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "__hs")
MAX_URL_LENGTH = 4096

_URL_IN_TEXT = re.compile(
    r"""(?ix)
    (?:\b(?:https?|ftp)://[^\s<>"'`]+)
    | (?:\bwww\.[^\s<>"'`]+)
    | (?:(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+
         (?:com|org|net|info|io|me|co|tv|ly|gl|be|ws|to|cc|xyz|ru|de|uk|fr|link|site|top|
            online|app|news|live|cx|su|is|in|ir|tk|ml|ga|cf|gq)
         (?:/[^\s<>"'`]*)?(?![\w.-]))
    """
)
_OTHER_SCHEME = re.compile(r"^(?!https?:|ftp:)[a-z][a-z0-9+.-]*:(?!//|\d)", re.IGNORECASE)
_TRAILING_PUNCT = ".,;:!?)]}'\"»”’"


def _idna_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise InvalidInput("URL has no host")
    if host.startswith("[") or host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        labels = []
        for label in host.split("."):
            labels.append(label if label.isascii() else "xn--" + label.encode("punycode").decode())
        return ".".join(labels)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonicalize_url(url: str) -> str:
    """The canonical form of one URL; InvalidInput for something that is not a web address."""
    raw = url.strip()
    if not raw or len(raw) > MAX_URL_LENGTH:
        raise InvalidInput("URL is empty or too long", hint=f"at most {MAX_URL_LENGTH} chars")
    if _OTHER_SCHEME.match(raw):
        raise InvalidInput(f"not a web URL: {raw[:60]!r}", hint="http, https or ftp")
    if "://" not in raw[:12]:
        raw = "http://" + raw.lstrip("/")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as error:
        raise InvalidInput(f"not a valid URL: {raw[:100]!r}", hint=str(error)) from None
    written = parts.scheme.lower()
    if written not in DEFAULT_PORTS:
        raise InvalidInput(f"unsupported URL scheme {written!r}", hint="http, https or ftp")
    scheme = "https" if written == "http" else written
    host = _idna_host(parts.hostname or "")
    defaults = (None, DEFAULT_PORTS[written], DEFAULT_PORTS[scheme])
    netloc = host if port in defaults else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%")
    if path:
        trailing = path.endswith("/")
        path = posixpath.normpath(path)
        path = "" if path in (".", "/") else path + ("/" if trailing else "")
        path = path.rstrip("/")
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(k)]
    query = urlencode(sorted(pairs), doseq=True)
    return urlunsplit((scheme, netloc, path, query, ""))


def domain_of(url: str) -> str:
    """Host of the canonical URL without a leading `www.` (and without the port)."""
    host = urlsplit(canonicalize_url(url)).hostname or ""
    return host[4:] if host.startswith("www.") else host


def extract_urls(text: str) -> list[str]:
    """Canonical URLs found in free text, in order, without duplicates (bad ones skipped)."""
    found: dict[str, None] = {}
    for match in _URL_IN_TEXT.finditer(text or ""):
        candidate = match.group(0).rstrip(_TRAILING_PUNCT)
        try:
            found[canonicalize_url(candidate)] = None
        except InvalidInput:
            continue
    return list(found)


def _urls_of(submission: Submission) -> list[tuple[str, str]]:
    """(canonical URL, where it came from) for the item's own URL and URLs in its text."""
    out: dict[str, str] = {}
    if submission.url:
        try:
            out[canonicalize_url(submission.url)] = "url"
        except InvalidInput:
            if submission.kind is ContentKind.URL:
                raise
    for found in extract_urls(submission.text or ""):
        out.setdefault(found, "text")
    return list(out.items())


def _exact(a: str, b: str) -> int:
    return 0 if a == b else 1


class UrlSignal:
    """`url`: meta has `source` ("url" for the item's own link, "text" for one found in text)."""

    name = "url"
    kinds = ALL_KINDS

    def extract(self, submission: Submission) -> Sequence[Signal]:
        return [Signal(self.name, url, {"source": source}) for url, source in _urls_of(submission)]

    def compare(self, a: str, b: str) -> int:
        return _exact(canonicalize_url(a), canonicalize_url(b))

    def examples(self) -> Sequence[tuple[Submission, str]]:
        item = make_submission(
            item_id="ex-url",
            kind=ContentKind.URL,
            url="HTTPS://WWW.Example.COM:443/a/./b/?utm_source=x&b=2&a=1&fbclid=z#top",
        )
        return [(item, "https://www.example.com/a/b?a=1&b=2")]


class DomainSignal:
    """`domain`: meta has `source` as for `url`; one signal per distinct domain."""

    name = "domain"
    kinds = ALL_KINDS

    def extract(self, submission: Submission) -> Sequence[Signal]:
        out: dict[str, str] = {}
        for url, source in _urls_of(submission):
            host = urlsplit(url).hostname or ""
            out.setdefault(host[4:] if host.startswith("www.") else host, source)
        return [Signal(self.name, domain, {"source": source}) for domain, source in out.items()]

    def compare(self, a: str, b: str) -> int:
        return _exact(a.lower().removeprefix("www."), b.lower().removeprefix("www."))

    def examples(self) -> Sequence[tuple[Submission, str]]:
        item = make_submission(
            item_id="ex-domain", kind=ContentKind.TEXT, text="see www.Bücher.example/x today"
        )
        return [(item, "xn--bcher-kva.example")]
