"""The Mastodon connector: verified admin webhooks in, moderation through the admin API out.

    connector = MastodonConnector(base_url, token, webhook_secret, client=httpx.Client())
    connector.verify(request_headers, raw_body)      # AuthError unless X-Hub-Signature is right
    event = connector.parse(raw_body)                # MastodonEvent with Submissions
    event = connector.receive(headers, raw_body)     # both in one call
    calls = connector.execute(decision, ref, decision_id="...")   # idempotent per decision id

Mastodon signs each webhook with `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`
(Webhooks::DeliveryWorker). Decisions map onto documented admin endpoints:

    remove  status   POST /api/v1/admin/statuses/:id/action type=delete   (status_removal="admin")
                     DELETE /api/v1/statuses/:id                          (status_removal="owner")
    remove  account  POST /api/v1/admin/accounts/:id/action type=suspend
    suspend any      POST /api/v1/admin/accounts/:account_id/action type=suspend
    restrict status  POST /api/v1/admin/statuses/:id/action type=sensitive (owner mode: account)
    restrict account POST /api/v1/admin/accounts/:id/action type=silence
    restore          unsuspend / unsilence / unsensitive (the reversed action must be named)
    queue, escalate  nothing on Mastodon; the case lives in Takedown
    none             resolves the report when a person decided it
  and every action taken on a reported item ends with POST /api/v1/admin/reports/:id/resolve.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from takedown.actions.mastodon_events import MastodonEvent, MastodonRef, parse_event
from takedown.core.decisions import ActionKind, Decision
from takedown.core.errors import (
    AuthError,
    DeliveryError,
    InvalidInput,
    PayloadTooLarge,
    Unavailable,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature"
STATUS_REMOVAL_MODES = ("admin", "owner")
MAX_WEBHOOK_BYTES = 1 << 20
MAX_MEDIA_BYTES = 50 << 20


@dataclass(frozen=True)
class ApiCall:
    """One request the connector made (or would make), with Mastodon's answer."""

    method: str
    path: str
    form: tuple[tuple[str, str], ...] = ()
    status: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "form": [list(p) for p in self.form],
                "status": self.status}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ApiCall:
        return cls(obj["method"], obj["path"], tuple((str(k), str(v)) for k, v in obj["form"]),
                   obj.get("status"))


class MastodonConnector:
    """Plain class: the API layer mounts `verify` + `parse` on a route and calls `execute`.

    `done` remembers finished decisions and steps (JSON-able values), so a retried or
    re-delivered decision makes no second request; pass a persistent mapping in production.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        webhook_secret: str,
        client: httpx.Client,
        *,
        status_removal: str = "admin",
        notify_users: bool = True,
        fetch_media: bool = False,
        fetch_hosts: Iterable[str] = (),
        max_media_bytes: int = MAX_MEDIA_BYTES,
        max_body_bytes: int = MAX_WEBHOOK_BYTES,
        done: MutableMapping[str, Any] | None = None,
    ) -> None:
        if not webhook_secret:
            raise InvalidInput("a Mastodon webhook secret is required",
                               hint="copy it from Administration > Webhooks")
        if status_removal not in STATUS_REMOVAL_MODES:
            raise InvalidInput(f"unknown status_removal {status_removal!r}",
                               hint=f"one of {', '.join(STATUS_REMOVAL_MODES)}")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._secret = webhook_secret.encode("utf-8")
        self.client = client
        self.status_removal = status_removal
        self.notify_users = notify_users
        self.fetch_media = fetch_media
        # Media URLs in an event are chosen by whoever wrote the post (a remote server's
        # `remote_url` can name any host, loopback included), so only the instance itself and
        # hosts the operator lists (its media CDN) are ever fetched.
        self.fetch_hosts = frozenset(
            {(urlsplit(self.base_url).hostname or "").lower(), *(h.lower() for h in fetch_hosts)}
            - {""}
        )
        self.max_media_bytes = max_media_bytes
        self.max_body_bytes = max_body_bytes
        self.done: MutableMapping[str, Any] = {} if done is None else done

    def signature(self, body: bytes) -> str:
        """The header value Mastodon sends for this body (useful for tests and replays)."""
        return "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise AuthError unless the body carries a valid signature; compare in constant time."""
        if len(body) > self.max_body_bytes:
            raise PayloadTooLarge(f"webhook body is over {self.max_body_bytes} bytes")
        value = _header(headers, SIGNATURE_HEADER)
        if value is None:
            raise AuthError(f"missing {SIGNATURE_HEADER} header",
                            hint="set a secret on the Mastodon webhook")
        algorithm, _, digest = value.strip().partition("=")
        if algorithm.lower() != "sha256" or not digest:
            raise AuthError(f"{SIGNATURE_HEADER} must be 'sha256=<hex>'")
        if not hmac.compare_digest(self.signature(body), f"sha256={digest.strip().lower()}"):
            raise AuthError(f"{SIGNATURE_HEADER} does not match the body",
                            hint="check the webhook secret; the body must be passed unparsed")

    def receive(self, headers: Mapping[str, str], body: bytes) -> MastodonEvent:
        """verify, then parse: the one call a webhook route needs."""
        self.verify(headers, body)
        return self.parse(body)

    def parse(self, body: bytes) -> MastodonEvent:
        """Translate a verified body; media are fetched through the client when enabled."""
        if len(body) > self.max_body_bytes:
            raise PayloadTooLarge(f"webhook body is over {self.max_body_bytes} bytes")
        return parse_event(body, fetch=self._fetch if self.fetch_media else None)

    def _fetch(self, url: str) -> bytes | None:
        """Download one media file, size-limited; None on any failure (the URL is kept)."""
        if not url.startswith(("https://", "http://")):
            return None
        if (urlsplit(url).hostname or "").lower() not in self.fetch_hosts:
            log.warning("media host not in the fetch allow-list; kept as a URL item")
            return None
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    return None
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_media_bytes:
                        return None
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError:
            return None

    def plan(self, decision: Decision, ref: MastodonRef, *,
             reverses: ActionKind | None = None) -> list[ApiCall]:
        """The requests `execute` will make, in order; pure, so it can be shown before acting."""
        action = decision.action
        note = self._note(decision, ref)
        calls: list[ApiCall] = []
        if action is ActionKind.REMOVE and ref.kind == "status":
            if self.status_removal == "admin":
                calls.append(self._status_action(ref, "delete", note))
            else:
                calls.append(ApiCall("DELETE", f"/api/v1/statuses/{ref.status_id}"))
        elif action in (ActionKind.REMOVE, ActionKind.SUSPEND):
            calls.append(self._account_action(ref, "suspend", note))
        elif action is ActionKind.RESTRICT and ref.kind == "status":
            if self.status_removal == "admin":
                calls.append(self._status_action(ref, "sensitive", note))
            else:
                calls.append(self._account_action(ref, "sensitive", note))
        elif action is ActionKind.RESTRICT:
            calls.append(self._account_action(ref, "silence", note))
        elif action is ActionKind.RESTORE:
            calls.extend(self._restore(ref, reverses))
        elif action in (ActionKind.QUEUE, ActionKind.ESCALATE) or (
            action is ActionKind.NONE and decision.provenance.actor == "automation"
        ):
            return []
        if ref.report_id is not None and action is not ActionKind.RESTORE:
            calls.append(ApiCall("POST", f"/api/v1/admin/reports/{ref.report_id}/resolve"))
        return calls

    def execute(self, decision: Decision, ref: MastodonRef | Mapping[str, Any], *,
                decision_id: str | None = None,
                reverses: ActionKind | None = None) -> list[ApiCall]:
        """Carry out the decision; a repeat with the same decision id makes no request."""
        ref = ref if isinstance(ref, MastodonRef) else MastodonRef.from_json(ref)
        key = decision_id or _decision_key(decision, ref, reverses)
        if key in self.done:
            return [ApiCall.from_json(c) for c in self.done[key]]
        made: list[ApiCall] = []
        for index, call in enumerate(self.plan(decision, ref, reverses=reverses)):
            step = f"{key}#{index}"
            if step in self.done:
                made.append(ApiCall.from_json(self.done[step]))
                continue
            result = self._send(call)
            self.done[step] = result.to_json()
            made.append(result)
        self.done[key] = [c.to_json() for c in made]
        return made

    def _send(self, call: ApiCall) -> ApiCall:
        url = f"{self.base_url}{call.path}"
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            response = self.client.request(call.method, url, data=dict(call.form) or None,
                                           headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(f"Mastodon unreachable for {call.method} {call.path}: {error}",
                                hint="retried later; the decision is not lost") from None
        status = response.status_code
        # An admin sees every status, so "Record not found" there means it is already gone; the
        # owner endpoint says the same for statuses the token does not own, so not there.
        admin_removal = ("type", "delete") in call.form
        if 200 <= status < 300 or (admin_removal and status == 404 and _not_found(response)):
            return ApiCall(call.method, call.path, call.form, status)
        raise DeliveryError(
            f"Mastodon answered {status} to {call.method} {call.path}: {_error_text(response)}",
            hint=_hint_for(status),
        )

    def _note(self, decision: Decision, ref: MastodonRef) -> tuple[tuple[str, str], ...]:
        form = [("text", decision.grounds[:5000]),
                ("send_email_notification", "true" if self.notify_users else "false")]
        if ref.report_id is not None:
            form.append(("report_id", ref.report_id))
        return tuple(form)

    def _status_action(self, ref: MastodonRef, kind: str,
                       note: tuple[tuple[str, str], ...]) -> ApiCall:
        return ApiCall("POST", f"/api/v1/admin/statuses/{ref.status_id}/action",
                       (("type", kind), *note))

    def _account_action(self, ref: MastodonRef, kind: str,
                        note: tuple[tuple[str, str], ...]) -> ApiCall:
        if ref.account_id is None:
            raise InvalidInput(f"cannot {kind} the author of {ref.item_id}: account unknown",
                               hint="the webhook payload carried no account id")
        return ApiCall("POST", f"/api/v1/admin/accounts/{ref.account_id}/action",
                       (("type", kind), *note))

    def _restore(self, ref: MastodonRef, reverses: ActionKind | None) -> list[ApiCall]:
        if reverses is None:
            raise InvalidInput("a restore must say which action it reverses",
                               hint="pass reverses=ActionKind.REMOVE (or SUSPEND, RESTRICT)")
        if ref.kind == "status" and reverses is ActionKind.REMOVE:
            raise Unavailable(
                "Mastodon cannot undelete a status (not even by approving an appeal)",
                hint="tell the user the removal was overturned so they can post it again; "
                     "approve their appeal of the strike in Mastodon to clear their record",
            )
        account = f"/api/v1/admin/accounts/{ref.account_id}"
        if reverses in (ActionKind.REMOVE, ActionKind.SUSPEND):
            return [ApiCall("POST", f"{account}/unsuspend")]
        if reverses is ActionKind.RESTRICT and ref.kind == "status" \
                and self.status_removal == "admin":
            return [ApiCall("POST", f"/api/v1/admin/statuses/{ref.status_id}/unsensitive")]
        if reverses is ActionKind.RESTRICT:
            path = "unsensitive" if ref.kind == "status" else "unsilence"
            return [ApiCall("POST", f"{account}/{path}")]
        raise InvalidInput(f"nothing to restore after {reverses.value}")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _decision_key(decision: Decision, ref: MastodonRef, reverses: ActionKind | None) -> str:
    body = json.dumps({"decision": decision.to_json(), "ref": ref.to_json(),
                       "reverses": reverses and reverses.value}, sort_keys=True)
    return "decision-sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no details"
    return str(body.get("error", body)) if isinstance(body, dict) else str(body)


def _not_found(response: httpx.Response) -> bool:
    """Mastodon's 'Record not found' means the status is already gone: the removal holds."""
    return _error_text(response) == "Record not found"


def _hint_for(status: int) -> str:
    if status in (401, 403):
        return "the token needs admin:write scopes and a role with Manage Users/Reports"
    if status == 404:
        return ("the record is unknown or already deleted, the token does not own the status "
                "(owner mode), or the server predates this endpoint")
    if status == 422:
        return "Mastodon rejected the action type or parameters"
    return "retried later; the decision is not lost"

