"""Tech Against Terrorism's TCAP hash list API v2: the hash list small platforms can actually get.

Format (https://terrorismanalytics.org/docs/hash-list-v2, and python-threatexchange 1.2's
`exchanges/clients/techagainstterrorism/api.py`):

* `POST {base}token-auth/tcap/` with `username`, `password` → `{"token", "user"}`; every other
  call sends `Authorization: Bearer <token>`.
* `GET {base}api/hash-list/v2/all?order=asc&after=<checkpoint>&limit=&offset=[&ideology=]` →
  `{"count", "next", "previous", "checkpoint", "results": [...]}`; each result has `id`,
  `hash_digest`, `algorithm` (MD5, SHA256, SHA512, PDQ), `ideology`, `file_type`, `deleted`,
  `created_on`, `updated_on`. `checkpoint` is `<updated_on>,<id>` of the page's last record.

Why resume by checkpoint, not offset: offsets shift as TAT adds hashes, a checkpoint does not.
The cursor is the checkpoint itself, so a node that stores it with the entries resumes exactly
where the last committed page ended. TCAP offers no feedback endpoint; verdicts stay local.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import httpx

from takedown.core.taxonomy import TvecLabel
from takedown.exchange.client import DeltaPage, ExchangeEntry, ExchangeError, Verdict
from takedown.exchange.formats.records import check_value, parse_time
from takedown.exchange.labels import map_labels

DEFAULT_BASE_URL = "https://app.terrorismanalytics.org/"
AUTH_PATH = "token-auth/tcap/"
LIST_PATH = "api/hash-list/v2/all"
ALGORITHMS = {"MD5": "md5", "SHA256": "sha256", "PDQ": "pdq"}
MAX_PAGE = 1000


class TatHashListClient:
    """Follows the TCAP hash list; one `fetch` is one page after a checkpoint."""

    name = "tat"
    accepts_feedback = False

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        ideology: str | None = None,
        http: httpx.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        if not token and not (username and password):
            raise ExchangeError(
                "the TAT hash list needs credentials", hint="set username and password (TCAP)"
            )
        self._username, self._password = username, password
        self._token = token
        self._static_token = bool(token)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.ideology = ideology
        self._http = http or httpx.Client(timeout=timeout)

    def _authenticate(self) -> str:
        try:
            response = self._http.post(
                self.base_url + AUTH_PATH,
                json={"username": self._username, "password": self._password, "resend": False},
            )
        except httpx.HTTPError as error:
            raise ExchangeError(f"TAT authentication failed: {type(error).__name__}") from None
        if response.status_code != 200:
            raise ExchangeError(f"TAT authentication refused (HTTP {response.status_code})")
        try:
            token = response.json()["token"]
        except (ValueError, KeyError, TypeError):
            raise ExchangeError("TAT authentication answered without a token") from None
        self._token = str(token)
        return self._token

    def _get_page(self, params: Mapping[str, Any]) -> dict[str, Any]:
        for attempt in (1, 2):
            token = self._token or self._authenticate()
            try:
                response = self._http.get(
                    self.base_url + LIST_PATH,
                    params=dict(params),
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as error:
                raise ExchangeError(
                    f"TAT hash list request failed: {type(error).__name__}"
                ) from None
            if response.status_code == 401 and attempt == 1 and not self._static_token:
                self._token = None  # expired JWT: log in again once
                continue
            if response.status_code != 200:
                raise ExchangeError(f"TAT hash list refused the page (HTTP {response.status_code})")
            try:
                body = response.json()
            except ValueError:
                raise ExchangeError("TAT hash list sent a page that is not JSON") from None
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise ExchangeError("TAT hash list page has no `results` list")
            return body
        raise ExchangeError("TAT hash list refused the credentials (HTTP 401)")

    def fetch(self, cursor: str | None, *, limit: int = 1000) -> DeltaPage:
        params: dict[str, Any] = {
            "order": "asc",
            "after": cursor or "",
            "limit": max(1, min(limit, MAX_PAGE)),
            "offset": 0,
        }
        if self.ideology:
            params["ideology"] = self.ideology
        body = self._get_page(params)
        skipped: Counter[str] = Counter()
        entries = []
        for index, record in enumerate(body["results"]):
            entry = self._entry(record, index, skipped)
            if entry is not None:
                entries.append(entry)
        checkpoint = body.get("checkpoint") or None
        if body["results"] and not checkpoint:
            raise ExchangeError("TAT hash list page has results but no checkpoint")
        return DeltaPage(
            entries=entries,
            cursor=str(checkpoint) if checkpoint else cursor,
            more=bool(body.get("next")),
            skipped=dict(skipped),
        )

    def _entry(self, record: Any, index: int, skipped: Counter[str]) -> ExchangeEntry | None:
        try:
            record_id = record["id"]
            algorithm = str(record["algorithm"]).upper()
            digest = str(record["hash_digest"])
        except (KeyError, TypeError):
            raise ExchangeError(
                f"TAT hash list record {index} lacks id, algorithm or hash_digest"
            ) from None
        signal_type = ALGORITHMS.get(algorithm)
        if signal_type is None:
            skipped[f"unsupported signal type {algorithm.lower()}"] += 1
            return None
        try:
            value = check_value(signal_type, digest)
            updated = parse_time(record.get("updated_on"))
            created = parse_time(record.get("created_on"))
        except ValueError:
            skipped["malformed record"] += 1
            return None
        ideology = str(record.get("ideology") or "")
        file_type = str(record.get("file_type") or "")
        mapped = map_labels([ideology], default=TvecLabel.BRANDED)
        return ExchangeEntry(
            external_id=str(record_id),
            signal_type=signal_type,
            value=value,
            label=mapped.value if mapped else None,
            source_labels=(ideology,) if ideology else (),
            tags=tuple(
                f"{k}:{v}" for k, v in (("ideology", ideology), ("file_type", file_type)) if v
            ),
            contributor="tech-against-terrorism",
            deleted=bool(record.get("deleted")),
            first_seen=created,
            updated_at=updated,
            extra={"algorithm": algorithm, "file_type": file_type, "ideology": ideology},
        )

    def send_feedback(
        self, entry: ExchangeEntry | str, verdict: Verdict, *, note: str | None = None
    ) -> None:
        """TCAP's hash list API takes no feedback; the node keeps its verdict locally."""
        return None


def create_client(options: Mapping[str, Any], http: httpx.Client | None) -> TatHashListClient:
    """Entry-point factory: options `username`, `password` (or `token`), `base_url`, `ideology`."""
    return TatHashListClient(
        username=options.get("username"),
        password=options.get("password"),
        token=options.get("token"),
        base_url=str(options.get("base_url") or DEFAULT_BASE_URL),
        ideology=options.get("ideology"),
        http=http,
        timeout=float(options.get("timeout", 60.0)),
    )
