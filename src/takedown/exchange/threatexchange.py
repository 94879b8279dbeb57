"""Meta ThreatExchange `threat_updates`: how GIFCT's hash-sharing database reaches members.

Format (https://developers.facebook.com/docs/threat-exchange/reference/apis/threat-updates/ and
…/reacting/, as used by python-threatexchange 1.2's `fb_threatexchange/api.py` and
`threat_updates.py`):

* `GET {graph}/{privacy_group}/threat_updates/?access_token=&start_time=&limit=&fields=&types=
  [&after=]` → `{"data": [...], "paging": {"cursors": {"before", "after"}, "next": url}}`; each
  update has `id` (the indicator), `indicator`, `type` (HASH_PDQ, HASH_MD5, ...),
  `last_updated`, `should_delete`, and `descriptors.data[]` with `id`, `owner.id`, `tags`,
  `status` (MALICIOUS, NON_MALICIOUS, ...), `reactions` (`[{"key", "value": "app,app"}]`),
  `added_on`. No `descriptors` means a tombstone too (python-threatexchange issue 834).
* feedback is a reaction: `POST {graph}/{descriptor_id}/` with `reactions=<TYPE>`.

The cursor is JSON holding `start_time` and the Graph paging token, never the `paging.next`
URL, because that URL embeds the access token and cursors are stored in the database. When a
delta ends, the next one starts at the highest `last_updated` seen; the boundary update may
come again, which the node's idempotent upsert absorbs.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from takedown.core.taxonomy import TvecLabel
from takedown.exchange.client import DeltaPage, ExchangeEntry, ExchangeError, Verdict
from takedown.exchange.formats.records import INDICATOR_TYPES, check_value, parse_time
from takedown.exchange.labels import map_labels

DEFAULT_BASE_URL = "https://graph.facebook.com/v26.0"
FIELDS = (
    "id,indicator,type,last_updated,should_delete,"
    "descriptors{id,reactions,my_reactions,owner{id},tags,status,added_on}"
)
REACTIONS: dict[Verdict, str] = {
    Verdict.SEEN: "SAW_THIS_TOO",
    Verdict.TRUE_POSITIVE: "HELPFUL",
    # python-threatexchange reads DISAGREE_WITH_TAGS as a member's negative opinion.
    Verdict.FALSE_POSITIVE: "DISAGREE_WITH_TAGS",
}
NEGATIVE = frozenset({"DISAGREE_WITH_TAGS", "NON_MALICIOUS", "NOT_HELPFUL"})


def _tags(raw: Any) -> list[str]:
    if isinstance(raw, dict):
        raw = [t.get("text", "") for t in raw.get("data", []) if isinstance(t, dict)]
    return [str(t) for t in (raw or []) if str(t)]


class ThreatExchangeClient:
    """Follows one privacy group's `threat_updates`; reacts to descriptors for feedback."""

    name = "threatexchange"
    accepts_feedback = True

    def __init__(
        self,
        *,
        access_token: str,
        privacy_group: int | str,
        base_url: str = DEFAULT_BASE_URL,
        types: Sequence[str] = tuple(INDICATOR_TYPES),
        reactions: Mapping[Verdict, str] | None = None,
        http: httpx.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        if not access_token or not str(privacy_group).strip():
            raise ExchangeError(
                "ThreatExchange needs an access token and a privacy group",
                hint="options: access_token, privacy_group",
            )
        self._token = access_token
        self.privacy_group = str(privacy_group)
        self.base_url = base_url.rstrip("/")
        self.types = tuple(types)
        self.reactions = {**REACTIONS, **(reactions or {})}
        self._http = http or httpx.Client(timeout=timeout)

    def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            raise ExchangeError(f"ThreatExchange request failed: {type(error).__name__}") from None
        if response.status_code != 200:
            message = ""
            with contextlib.suppress(ValueError, AttributeError):
                message = str(response.json().get("error", {}).get("message", ""))[:200]
            raise ExchangeError(
                f"ThreatExchange refused (HTTP {response.status_code}) {message}".strip()
            )
        try:
            body = response.json()
        except ValueError:
            raise ExchangeError("ThreatExchange sent a response that is not JSON") from None
        if not isinstance(body, dict):
            raise ExchangeError("ThreatExchange sent an unexpected response")
        return body

    def fetch(self, cursor: str | None, *, limit: int = 1000) -> DeltaPage:
        state = _load_cursor(cursor)
        params: dict[str, Any] = {
            "access_token": self._token,
            "limit": max(1, min(limit, 1000)),
            "fields": FIELDS,
            "types": ",".join(self.types),
        }
        if state.get("start_time") is not None:
            params["start_time"] = state["start_time"]
        if state.get("after"):
            params["after"] = state["after"]
        body = self._call(
            "GET", f"{self.base_url}/{self.privacy_group}/threat_updates/", params=params
        )
        data = body.get("data")
        if not isinstance(data, list):
            raise ExchangeError("ThreatExchange threat_updates page has no `data` list")
        skipped: Counter[str] = Counter()
        entries = []
        high = int(state.get("high") or 0)
        for index, update in enumerate(data):
            entry = self._entry(update, index, skipped)
            try:
                high = max(high, int(update.get("last_updated") or 0))
            except (TypeError, ValueError):
                raise ExchangeError(
                    f"threat_updates record {index} has a bad last_updated"
                ) from None
            if entry is not None:
                entries.append(entry)
        paging = body.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if paging.get("next") and not after:
            after = httpx.URL(str(paging["next"])).params.get("after")
        if paging.get("next") and after:
            next_state = {"start_time": state.get("start_time"), "after": after, "high": high}
            more = True
        else:
            start = high or state.get("start_time")
            next_state = {"start_time": start, "after": None, "high": high}
            more = False
        return DeltaPage(entries, json.dumps(next_state, sort_keys=True), more, dict(skipped))

    def _entry(self, update: Any, index: int, skipped: Counter[str]) -> ExchangeEntry | None:
        try:
            indicator_id = str(update["id"])
            indicator = str(update["indicator"])
            indicator_type = str(update["type"])
        except (KeyError, TypeError):
            raise ExchangeError(
                f"threat_updates record {index} lacks id, indicator or type"
            ) from None
        signal_type = INDICATOR_TYPES.get(indicator_type)
        if signal_type is None:
            skipped[f"unsupported indicator type {indicator_type}"] += 1
            return None
        try:
            value = check_value(signal_type, indicator)
        except ValueError:
            skipped["malformed record"] += 1
            return None
        descriptors = (update.get("descriptors") or {}).get("data") or []
        deleted = bool(update.get("should_delete")) or "descriptors" not in update
        tags: list[str] = []
        statuses, owners, added, descriptor_ids = [], [], [], []
        disputed = False
        for descriptor in descriptors:
            descriptor_ids.append(str(descriptor.get("id", "")))
            tags.extend(t for t in _tags(descriptor.get("tags")) if t not in tags)
            status = str(descriptor.get("status") or "")
            statuses.append(status)
            owners.append(str((descriptor.get("owner") or {}).get("id", "")))
            if descriptor.get("added_on"):
                added.append(str(descriptor["added_on"]))
            reactions = {str(r.get("key")) for r in descriptor.get("reactions") or []}
            disputed = disputed or status == "NON_MALICIOUS" or bool(reactions & NEGATIVE)
        default = TvecLabel.NOT_TVEC if statuses and set(statuses) == {"NON_MALICIOUS"} else None
        mapped = map_labels(tags, default=default)
        try:
            seen = [t for t in (parse_time(a) for a in added) if t is not None]
            first_seen = min(seen) if seen else None
            updated_at = parse_time(update.get("last_updated"))
        except ValueError:
            first_seen, updated_at = None, None
        return ExchangeEntry(
            external_id=indicator_id,
            signal_type=signal_type,
            value=value,
            label=mapped.value if mapped else None,
            source_labels=tuple(tags),
            tags=tuple(tags),
            contributor=next((o for o in owners if o), None),
            deleted=deleted,
            disputed=disputed,
            first_seen=first_seen,
            updated_at=updated_at,
            extra={
                "indicator_type": indicator_type,
                "descriptor_ids": [d for d in descriptor_ids if d],
                "statuses": statuses,
            },
        )

    def _descriptor_ids(self, entry: ExchangeEntry | str) -> list[str]:
        if isinstance(entry, ExchangeEntry) and entry.extra.get("descriptor_ids"):
            return [str(d) for d in entry.extra["descriptor_ids"]]
        indicator_id = entry.external_id if isinstance(entry, ExchangeEntry) else entry
        body = self._call(
            "GET",
            f"{self.base_url}/{indicator_id}",
            params={"access_token": self._token, "fields": "descriptors{id}"},
        )
        return [str(d["id"]) for d in (body.get("descriptors") or {}).get("data", []) if "id" in d]

    def send_feedback(
        self, entry: ExchangeEntry | str, verdict: Verdict, *, note: str | None = None
    ) -> None:
        """React to every descriptor of the indicator: SAW_THIS_TOO, HELPFUL or a negative one."""
        reaction = self.reactions[verdict]
        ids = self._descriptor_ids(entry)
        if not ids:
            raise ExchangeError("ThreatExchange has no descriptor to react to for this entry")
        for descriptor_id in ids:
            body = self._call(
                "POST",
                f"{self.base_url}/{descriptor_id}/",
                data={"access_token": self._token, "reactions": reaction},
            )
            if body.get("success") is False:
                raise ExchangeError(f"ThreatExchange did not record the {reaction} reaction")


def _load_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        raise ExchangeError("not a ThreatExchange cursor", hint="reset the source") from None
    if not isinstance(state, dict):
        raise ExchangeError("not a ThreatExchange cursor", hint="reset the source")
    return state


def create_client(options: Mapping[str, Any], http: httpx.Client | None) -> ThreatExchangeClient:
    """Entry-point factory: `access_token`, `privacy_group`, `base_url`, `types`,
    `false_positive_reaction` (default DISAGREE_WITH_TAGS; NON_MALICIOUS is the alternative)."""
    reactions = {}
    if options.get("false_positive_reaction"):
        reactions[Verdict.FALSE_POSITIVE] = str(options["false_positive_reaction"]).upper()
    types = options.get("types") or tuple(INDICATOR_TYPES)
    if isinstance(types, str):
        types = [t.strip() for t in types.split(",") if t.strip()]
    return ThreatExchangeClient(
        access_token=str(options.get("access_token") or ""),
        privacy_group=str(options.get("privacy_group") or ""),
        base_url=str(options.get("base_url") or DEFAULT_BASE_URL),
        types=tuple(types),
        reactions=reactions,
        http=http,
        timeout=float(options.get("timeout", 60.0)),
    )
