"""The Takedown hub as an exchange: pull its delta feed, send verdicts, publish entries.

Registered as the `takedown` exchange kind. Options: `url` (the hub's base URL), and `token`
or `token_file` (a member token, `thub_...`). `fetch(..., wait=s)` long-polls the hub, which is
how a following node hears of crisis entries within seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import orjson

from takedown.core.errors import InvalidInput
from takedown.exchange.client import DeltaPage, ExchangeEntry, ExchangeError, Verdict

TIMEOUT = 30.0


def _when(value: Any, seen: dict[Any, Any]) -> datetime | None:
    """Parse a timestamp once per distinct string: a page's entries were mostly submitted
    together, so they share a handful of times (and then share the datetime objects too)."""
    if not isinstance(value, str) or not value:
        return None
    found = seen.get(value)
    if found is None:
        found = seen[value] = datetime.fromisoformat(value)
    return found


_NEW = object.__new__
_NO_TAGS: tuple[str, ...] = ()


def entry_from_json(
    item: Mapping[str, Any], seen: dict[Any, Any] | None = None
) -> ExchangeEntry:
    """One feed entry. Built by filling the instance dict directly: the frozen dataclass's
    `__init__` costs a guarded setattr per field, which is most of a million-entry parse.
    `seen` memoises per page what entries share (timestamps, labels, tag lists)."""
    seen = {} if seen is None else seen
    get = item.get
    label = get("label")
    labels = seen.get(("label", label))
    if labels is None:
        label = str(label) if label else None
        labels = seen[("label", label)] = (label, (label,) if label else ())
    tags = get("tags")
    entry = _NEW(ExchangeEntry)
    entry.__dict__.update(
        external_id=str(item["id"]),
        signal_type=str(item["signal_type"]),
        value=str(item["value"]),
        label=labels[0],
        source_labels=labels[1],
        tags=_tags(tags, seen) if tags else _NO_TAGS,
        severity=get("severity"),
        contributor=get("contributor"),
        note=get("note"),
        deleted=bool(get("deleted")),
        disputed=bool(get("disputed")),
        crisis=bool(get("crisis")),
        first_seen=_when(get("first_seen"), seen),
        updated_at=_when(get("updated_at"), seen),
        extra=_extra(get("sharing"), seen),
    )
    return entry


def _extra(sharing: Any, seen: dict[Any, Any]) -> Mapping[str, Any]:
    """The hub fields with no ExchangeEntry field of their own (the sharing level), one
    read-only mapping per distinct value per page rather than a dict per entry."""
    key = ("extra", sharing)
    found = seen.get(key)
    if found is None:
        found = seen[key] = MappingProxyType({"sharing": sharing})
    return found


def _tags(tags: Any, seen: dict[Any, Any]) -> tuple[str, ...]:
    key = ("tags", *tags) if isinstance(tags, list) else ("tags", tags)
    found = seen.get(key)
    if found is None:
        found = seen[key] = tuple(str(t) for t in tags)
    return found


class HubClient:
    """One member's connection to one hub."""

    def __init__(
        self, url: str, token: str, *, http: httpx.Client | None = None, name: str = "takedown"
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(f"hub url {url!r} must start with http:// or https://")
        self.name = name
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._http = http or httpx.Client(timeout=TIMEOUT)

    def _call(self, method: str, path: str, *, timeout: float | None = None, **kw: Any) -> Any:
        if timeout is not None:
            kw["timeout"] = timeout
        try:
            response = self._http.request(method, f"{self.url}{path}", headers=self._headers, **kw)
        except httpx.HTTPError as error:
            raise ExchangeError(f"hub {self.url} unreachable: {type(error).__name__}") from None
        if response.status_code >= 400:
            try:
                detail = str(response.json().get("detail", ""))[:300]
            except ValueError:
                detail = response.text[:300]
            hint = None
            if response.status_code == 429:
                hint = f"retry after {response.headers.get('Retry-After', '?')} s"
            raise ExchangeError(
                f"hub {self.url} answered {response.status_code} to {method} {path.split('?')[0]}:"
                f" {detail}",
                hint=hint,
            )
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise ExchangeError(f"hub {self.url} sent something that is not JSON") from None

    def fetch(
        self, cursor: str | None, *, limit: int = 1000, wait: float = 0.0, crisis: bool = False
    ) -> DeltaPage:
        """A page of the feed after `cursor`; `crisis=True` reads only crisis entries (a fast
        lane that a node follows beside the feed, so a backlog never delays a crisis)."""
        params: dict[str, Any] = {"cursor": cursor or "0", "limit": limit}
        if wait > 0:
            params["wait"] = wait
        if crisis:
            params["crisis"] = "true"
        timeout = TIMEOUT + wait if wait > 0 else None
        body = self._call("GET", "/v1/hub/deltas", params=params, timeout=timeout)
        try:
            seen: dict[Any, Any] = {}
            entries = [entry_from_json(item, seen) for item in body["entries"]]
            return DeltaPage(entries, str(body["cursor"]), bool(body["more"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ExchangeError(f"hub {self.url} sent an unreadable page: {error!r}") from None

    def send_feedback(
        self, entry: ExchangeEntry | str, verdict: Verdict, *, note: str | None = None
    ) -> None:
        external_id = entry.external_id if isinstance(entry, ExchangeEntry) else entry
        self._call(
            "POST",
            f"/v1/hub/entries/{int(external_id)}/feedback",
            json={"verdict": verdict.value, "note": note},
        )

    def publish(self, entries: Sequence[Mapping[str, Any]]) -> list[str]:
        """Submit entries (hub JSON shape); returns the hub's ids in the same order."""
        body = self._call("POST", "/v1/hub/entries", json={"entries": list(entries)})
        return [str(r["id"]) for r in body["entries"]]

    def retract(self, external_id: str) -> None:
        self._call("DELETE", f"/v1/hub/entries/{int(external_id)}")

    def close(self) -> None:
        self._http.close()


def create(options: Mapping[str, Any], http: httpx.Client | None = None) -> HubClient:
    """The `takedown` exchange factory."""
    url = options.get("url")
    if not url:
        raise InvalidInput("a takedown hub source needs `url`")
    token = options.get("token")
    if not token and options.get("token_file"):
        try:
            token = Path(str(options["token_file"])).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise InvalidInput(f"cannot read token_file: {error.strerror}") from None
    if not token:
        raise InvalidInput("a takedown hub source needs `token` or `token_file`")
    return HubClient(str(url), str(token), http=http, name=str(options.get("name", "takedown")))
