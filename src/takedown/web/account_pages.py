"""The reviewer UI's account pages under /review/accounts: the account case queue and one
account's page (state, risk with the reasons behind it, strikes, suspected evader links with
the evidence for each, decisions, recent items), with a decision form.

Kept apart from pages.py (item cases) so account enforcement adds pages without touching the
item workbench; the same sign-in, CSRF and POST/redirect/GET habits apply.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from takedown.core.errors import TakedownError
from takedown.services import account_views
from takedown.services.accounts import AccountService
from takedown.web import render
from takedown.web.session import PREFIX, check_csrf, current

router = APIRouter(prefix=f"{PREFIX}/accounts", include_in_schema=False)
ACCOUNT_ACTIONS = [("suspend", "Suspend account"), ("restrict", "Restrict"),
                   ("warn", "Warn"), ("none", "No action (clear)")]
SIGNAL_NAMES = {"display_name": "Display name", "bio": "Bio", "avatar": "Avatar (PDQ)",
                "urls": "Shared URLs", "media": "Shared media", "neighbours": "Shared contacts"}


def _service(request: Request) -> AccountService:
    return request.app.state.runtime.accounts  # type: ignore[no-any-return]


def _key(request: Request, account_id: str) -> str:
    """A platform id (`?tenant=` when several tenants have it) or a stored key."""
    return account_views.resolve_key(request.app.state.runtime.engine, account_id,
                                     request.query_params.get("tenant"))


@router.get("/")
def account_queue(request: Request) -> Response:
    session = current(request)
    service = _service(request)
    return render.page("accounts.html", request, session=session, cases=service.queue(),
                       risky=service.listing(min_risk=0.5, limit=50))


@router.get("/{account_id}")
def account_page(account_id: str, request: Request) -> Response:
    session = current(request)
    try:
        account = _service(request).page(_key(request, account_id))
    except TakedownError as error:
        return render.page("error.html", request, status=404, session=session,
                           message=error.message)
    return render.page("account.html", request, session=session, a=account,
                       actions=ACCOUNT_ACTIONS, signal_names=SIGNAL_NAMES)


@router.post("/{account_id}/decide")
async def decide_account(account_id: str, request: Request) -> Response:
    session = current(request)
    form = await request.form()
    here = f"{PREFIX}/accounts/{quote(account_id, safe='')}"
    try:
        check_csrf(session, form.get("csrf"))
        result = _service(request).decide_by_reviewer(
            _key(request, account_id), action=str(form.get("action") or ""),
            reason=str(form.get("reason") or ""), actor=session.principal.actor)
    except TakedownError as error:
        return RedirectResponse(f"{here}?error={quote(error.message)}", status_code=303)
    request.app.state.runtime.delivery_wake.set()
    done = quote(f"Account {account_id}: {result['action']}.")
    return RedirectResponse(f"{PREFIX}/accounts/?done={done}", status_code=303)
