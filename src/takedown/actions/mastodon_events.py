"""Mastodon admin webhook payloads → Takedown Submissions, user reports and action references.

Mastodon posts `{"event": ..., "created_at": ..., "object": ...}` where `object` is a Status
(`status.created`, `status.updated`), an Admin::Report (`report.created`) or an Admin::Account
(`account.created`), serialised as the REST API would. One status can yield several
submissions: its text and each media attachment, because each is hashed and matched on its own;
all of them carry a MastodonRef in `metadata["mastodon"]` so a decision on any of them can be
carried out on the status or account it belongs to.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from takedown.core.content import ContentKind, Submission, make_submission
from takedown.core.errors import InvalidInput

STATUS_EVENTS = frozenset({"status.created", "status.updated"})
SUPPORTED_EVENTS = frozenset({*STATUS_EVENTS, "report.created", "account.created"})
MEDIA_KINDS: dict[str, ContentKind] = {
    "image": ContentKind.IMAGE,
    "gifv": ContentKind.VIDEO,
    "video": ContentKind.VIDEO,
    "audio": ContentKind.FILE,
    "unknown": ContentKind.FILE,
}

# Given a media URL, returns its bytes, or None when it cannot or should not be fetched.
MediaFetcher = Callable[[str], bytes | None]


@dataclass(frozen=True)
class MastodonRef:
    """Where a decision lands on the Mastodon server: a status (with its author) or an account."""

    kind: str  # "status" or "account"
    account_id: str | None = None
    status_id: str | None = None
    report_id: str | None = None
    media_id: str | None = None

    @property
    def item_id(self) -> str:
        if self.kind == "account":
            return f"mastodon:account:{self.account_id}"
        base = f"mastodon:status:{self.status_id}"
        return f"{base}:media:{self.media_id}" if self.media_id else base

    def to_json(self) -> dict[str, str]:
        out = {"kind": self.kind}
        for name in ("account_id", "status_id", "report_id", "media_id"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> MastodonRef:
        kind = obj.get("kind")
        if kind not in ("status", "account"):
            raise InvalidInput(f"unknown Mastodon reference kind {kind!r}",
                               hint="'status' or 'account'")
        ref = cls(kind=str(kind), **{k: str(obj[k]) for k in
                                     ("account_id", "status_id", "report_id", "media_id")
                                     if obj.get(k) is not None})
        if ref.kind == "status" and ref.status_id is None:
            raise InvalidInput("a status reference needs 'status_id'")
        if ref.kind == "account" and ref.account_id is None:
            raise InvalidInput("an account reference needs 'account_id'")
        return ref

    @classmethod
    def from_submission(cls, submission: Submission) -> MastodonRef:
        """Recover the reference the connector stored when it parsed the webhook."""
        raw = submission.metadata.get("mastodon")
        if not isinstance(raw, Mapping):
            raise InvalidInput(f"item {submission.item_id} did not come from Mastodon",
                               hint="only items parsed by MastodonConnector carry a reference")
        return cls.from_json(raw)


@dataclass(frozen=True)
class MastodonReport:
    """A user's report (a DSA notice): who reported what, and why."""

    report_id: str
    category: str
    comment: str
    reporter_account_id: str | None
    target_account_id: str | None
    status_ids: tuple[str, ...]
    rule_ids: tuple[str, ...] = ()
    forwarded: bool = False


@dataclass(frozen=True)
class MastodonEvent:
    event: str
    created_at: str | None
    submissions: tuple[Submission, ...] = ()
    report: MastodonReport | None = None
    account_id: str | None = None
    refs: tuple[MastodonRef, ...] = field(default_factory=tuple)


class _TextExtractor(HTMLParser):
    """Mastodon status HTML is a few tags (p, br, a, span); paragraphs become blank lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return html.unescape("\n".join(lines)).strip()


def parse_event(body: bytes, *, fetch: MediaFetcher | None = None) -> MastodonEvent:
    """Validate and translate one webhook body; raises InvalidInput for anything malformed."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput("Mastodon webhook body is not JSON",
                           hint="Mastodon's default payload, not a custom template") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("object"), dict):
        raise InvalidInput("Mastodon webhook needs 'event' and an 'object'")
    event = payload.get("event")
    if event not in SUPPORTED_EVENTS:
        raise InvalidInput(f"unsupported Mastodon event {event!r}",
                           hint=f"subscribe only to: {', '.join(sorted(SUPPORTED_EVENTS))}")
    created_at = payload.get("created_at")
    obj = payload["object"]
    created = created_at if isinstance(created_at, str) else None
    if event in STATUS_EVENTS:
        subs = _status_submissions(obj, event=event, report_id=None, fetch=fetch)
        account = _id(obj.get("account"))
        refs = (MastodonRef("status", account, _require_id(obj, "status")),)
        return MastodonEvent(event, created, subs, account_id=account, refs=refs)
    if event == "report.created":
        return _report_event(obj, created, fetch)
    return _account_event(obj, created)


def _id(obj: Any) -> str | None:
    if isinstance(obj, Mapping) and isinstance(obj.get("id"), str | int):
        return str(obj["id"])
    return None


def _require_id(obj: Mapping[str, Any], what: str) -> str:
    value = _id(obj)
    if value is None:
        raise InvalidInput(f"Mastodon {what} object has no 'id'")
    return value


def _status_submissions(
    status: Mapping[str, Any], *, event: str, report_id: str | None, fetch: MediaFetcher | None
) -> tuple[Submission, ...]:
    status_id = _require_id(status, "status")
    account_id = _id(status.get("account"))
    ref = MastodonRef("status", account_id, status_id, report_id)
    text = "\n\n".join(
        part for part in (
            str(status.get("spoiler_text") or "").strip(),
            html_to_text(str(status.get("content") or "")),
        ) if part
    )
    common = {"source": "mastodon", "event": event, "language": status.get("language"),
              "visibility": status.get("visibility"), "status_url": status.get("url")}
    out: list[Submission] = []
    if text:
        out.append(make_submission(item_id=ref.item_id, kind=ContentKind.TEXT,
                                   account_id=account_id, text=text,
                                   metadata={**common, "mastodon": ref.to_json()}))
    media = status.get("media_attachments") or []
    for attachment in media if isinstance(media, list) else []:
        if isinstance(attachment, Mapping):
            out.append(_media_submission(attachment, ref, common, fetch))
    return tuple(out)


def _media_submission(
    attachment: Mapping[str, Any], parent: MastodonRef, common: dict[str, Any],
    fetch: MediaFetcher | None,
) -> Submission:
    media_id = _require_id(attachment, "media attachment")
    ref = MastodonRef("status", parent.account_id, parent.status_id, parent.report_id, media_id)
    url = attachment.get("url") or attachment.get("remote_url")
    description = attachment.get("description")
    metadata = {**common, "mastodon": ref.to_json(), "media_type": attachment.get("type")}
    content = fetch(str(url)) if fetch is not None and isinstance(url, str) else None
    if content:
        kind = MEDIA_KINDS.get(str(attachment.get("type")), ContentKind.FILE)
        return make_submission(item_id=ref.item_id, kind=kind, account_id=parent.account_id,
                               content=content, url=url, text=description, metadata=metadata)
    if not isinstance(url, str) or not url:
        raise InvalidInput(f"media attachment {media_id} has no url")
    if fetch is not None:
        metadata["media_fetch_failed"] = True
    return make_submission(item_id=ref.item_id, kind=ContentKind.URL,
                           account_id=parent.account_id, url=url, text=description,
                           metadata=metadata)


def _report_event(obj: Mapping[str, Any], created: str | None,
                  fetch: MediaFetcher | None) -> MastodonEvent:
    report_id = _require_id(obj, "report")
    statuses = [s for s in (obj.get("statuses") or []) if isinstance(s, Mapping)]
    target = _id(obj.get("target_account"))
    report = MastodonReport(
        report_id=report_id,
        category=str(obj.get("category") or "other"),
        comment=str(obj.get("comment") or ""),
        reporter_account_id=_id(obj.get("account")),
        target_account_id=target,
        status_ids=tuple(_require_id(s, "status") for s in statuses),
        rule_ids=tuple(str(r["id"]) for r in obj.get("rules") or []
                       if isinstance(r, Mapping) and "id" in r),
        forwarded=bool(obj.get("forwarded")),
    )
    notice = {"report_id": report_id, "category": report.category, "comment": report.comment}
    subs: list[Submission] = []
    refs: list[MastodonRef] = []
    for status in statuses:
        for sub in _status_submissions(status, event="report.created", report_id=report_id,
                                       fetch=fetch):
            subs.append(_with(sub, user_report=notice))
        refs.append(MastodonRef("status", _id(status.get("account")) or target,
                                _require_id(status, "status"), report_id))
    if not statuses and isinstance(obj.get("target_account"), Mapping):
        account = _account_submission(obj["target_account"], "report.created", report_id)
        if account is not None:
            subs.append(_with(account, user_report=notice))
        refs.append(MastodonRef("account", target, report_id=report_id))
    return MastodonEvent("report.created", created, tuple(subs), report, target, tuple(refs))


def _with(submission: Submission, **metadata: Any) -> Submission:
    return dataclasses.replace(submission, metadata={**submission.metadata, **metadata})


def _account_event(obj: Mapping[str, Any], created: str | None) -> MastodonEvent:
    account_id = _require_id(obj, "account")
    sub = _account_submission(obj, "account.created", None)
    ref = MastodonRef("account", account_id)
    return MastodonEvent("account.created", created, (sub,) if sub else (), None, account_id,
                         (ref,))


def _account_submission(admin_account: Mapping[str, Any], event: str,
                        report_id: str | None) -> Submission | None:
    """A profile is content too: display name, bio and sign-up reason are scanned as text."""
    account_id = _require_id(admin_account, "account")
    public = admin_account.get("account")
    public = public if isinstance(public, Mapping) else {}
    parts = [
        str(public.get("display_name") or ""),
        html_to_text(str(public.get("note") or "")),
        str(admin_account.get("invite_request") or ""),
    ]
    text = "\n".join(part.strip() for part in parts if part and part.strip())
    if not text:
        return None
    ref = MastodonRef("account", account_id, report_id=report_id)
    return make_submission(item_id=ref.item_id, kind=ContentKind.TEXT, account_id=account_id,
                           text=text, url=public.get("url"),
                           metadata={"source": "mastodon", "event": event,
                                     "mastodon": ref.to_json()})
