"""The reviewer UI's pages under /review: sign-in, queue, case, appeals, statement of reasons.

Forms post back here and redirect (POST/redirect/GET), so reloading never decides twice. The
same case service as the JSON API does the work inside one transaction; its errors come back to
the page as a message instead of a JSON problem.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from takedown.core.errors import TakedownError
from takedown.review.evidence import highlight
from takedown.services.casework import Casework
from takedown.web import account_pages, render
from takedown.web.session import (
    LOGIN_COOKIE,
    PREFIX,
    SignInRequired,
    check_csrf,
    check_login_csrf,
    current,
    login_csrf,
    login_redirect,
    safe_next,
    set_cookie,
    set_login_csrf,
    sign_in,
    sign_out,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ACTIONS = [
    ("remove", "Remove", "r"),
    ("restrict", "Restrict", "t"),
    ("suspend", "Suspend account", "s"),
    ("none", "No action", "n"),
    ("escalate", "Escalate to a lead", "e"),
]


def _back(path: str, *, done: str | None = None, error: str | None = None) -> RedirectResponse:
    sep = "&" if "?" in path else "?"
    if done:
        path += f"{sep}done={quote(done)}"
    elif error:
        path += f"{sep}error={quote(error)}"
    return RedirectResponse(path, status_code=303)


def _casework(request: Request) -> Casework:
    return request.app.state.runtime.casework  # type: ignore[no-any-return]


def _views(is_lead: bool) -> list[str]:
    return ["open", "escalated"] if is_lead else ["open"]


@router.get("/login")
def login_form(request: Request) -> Response:
    csrf = login_csrf(request)
    response = render.page(
        "login.html", request, next=safe_next(request.query_params.get("next")), login_csrf=csrf
    )
    set_login_csrf(response, request, csrf)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    key, target = form.get("api_key"), safe_next(form.get("next"))
    csrf = login_csrf(request)
    status = 403
    try:
        check_login_csrf(request, form.get("csrf"))
        status = 401
        token = sign_in(request, key if isinstance(key, str) else "")
    except TakedownError as error:
        response = render.page(
            "login.html", request, status=status, next=target, error=error.message,
            login_csrf=csrf,
        )
        set_login_csrf(response, request, csrf)
        return response
    redirect = RedirectResponse(target, status_code=303)
    set_cookie(redirect, request, token)
    redirect.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return redirect


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = current(request)
    check_csrf(session, (await request.form()).get("csrf"))
    return sign_out(request, session)


@router.get("/")
def queue_page(request: Request) -> Response:
    session = current(request)
    view = request.query_params.get("view", "open")
    if view not in _views(session.is_lead):
        view = "open"
    rows = _casework(request).queue([view])
    appeals = _casework(request).appeals(limit=1000)
    orders = request.app.state.runtime.accountability.open_orders()
    return render.page(
        "queue.html",
        request,
        session=session,
        cases=rows,
        view=view,
        views=_views(session.is_lead),
        open_appeals=len(appeals),
        actions=[ACTIONS[3], *ACTIONS[:3]],
        orders=orders,
    )


@router.get("/next")
def next_case(request: Request) -> Response:
    """The top of the queue: where a reviewer goes after each decision."""
    session = current(request)
    top = _casework(request).queue(_views(session.is_lead), limit=1)
    done = request.query_params.get("done")
    if not top:
        return _back(f"{PREFIX}/", done=done or "The queue is empty.")
    return _back(f"{PREFIX}/cases/{top[0]['id']}", done=done)


@router.get("/cases/{case_id}")
def case_page(case_id: int, request: Request) -> Response:
    session = current(request)
    try:
        case = _casework(request).case(case_id)
    except TakedownError as error:
        return render.page(
            "error.html", request, status=404, session=session, message=error.message
        )
    queue = [c["id"] for c in _casework(request).queue(_views(session.is_lead))]
    text = case["item"]["text"] or ""
    open_appeal = next((a for a in case["appeals"] if a["state"] == "open"), None)
    position = queue.index(case_id) if case_id in queue else None
    return render.page(
        "case.html",
        request,
        session=session,
        case=case,
        actions=ACTIONS,
        segments=highlight(text, case["findings"]) if text else [],
        classifier=[f for f in case["findings"] if not f.get("bank")],
        matches=[f for f in case["findings"] if f.get("bank")],
        open_appeal=open_appeal,
        may_decide_appeal=open_appeal is not None
        and open_appeal["excluded_key_id"] != session.principal.key_id,
        prev_id=queue[position - 1] if position else None,
        next_id=queue[position + 1] if position is not None and position + 1 < len(queue) else None,
    )


@router.get("/cases/{case_id}/media")
def case_media(case_id: int, request: Request) -> Response:
    current(request)
    try:
        _kind, content, _meta = _casework(request).media(case_id)
    except TakedownError:
        return Response(status_code=404)
    return render.media_response(content)


@router.post("/cases/{case_id}/decide")
async def decide(case_id: int, request: Request) -> Response:
    session = current(request)
    form = await request.form()
    here = f"{PREFIX}/cases/{case_id}"
    try:
        check_csrf(session, form.get("csrf"))
        action, label = str(form.get("action") or ""), str(form.get("label") or "")
        reason = str(form.get("reason") or "")
        with _casework(request).acting() as service:
            if action == "escalate":
                service.escalate(case_id, session.reviewer, reason=reason)
                done = f"Case {case_id} escalated to a lead."
            else:
                outcome = service.decide(
                    case_id, session.reviewer, action=action, label=label, reason=reason
                )
                done = (
                    f"Case {case_id}: {outcome.decision.action.value} ({outcome.decision.label})."
                )
    except TakedownError as error:
        return _back(here, error=error.message)
    return _back(f"{PREFIX}/next", done=done)


@router.post("/bulk")
async def bulk(request: Request) -> Response:
    session = current(request)
    form = await request.form()
    try:
        check_csrf(session, form.get("csrf"))
        ids = [int(v) for v in form.getlist("case_ids") if isinstance(v, str) and v.isdigit()]
        with _casework(request).acting() as service:
            outcomes = service.bulk_decide(
                ids,
                session.reviewer,
                action=str(form.get("action") or ""),
                label=str(form.get("label") or ""),
                reason=str(form.get("reason") or ""),
            )
    except TakedownError as error:
        return _back(f"{PREFIX}/", error=error.message)
    return _back(f"{PREFIX}/", done=f"Decided {len(outcomes)} cases.")


@router.get("/appeals")
def appeals_page(request: Request) -> Response:
    session = current(request)
    state = request.query_params.get("state", "open")
    if state not in ("open", "upheld", "overturned"):
        state = "open"
    rows = _casework(request).appeals(state=state)
    return render.page("appeals.html", request, session=session, appeals=rows, state=state)


@router.post("/appeals/{appeal_id}/decide")
async def decide_appeal(appeal_id: int, request: Request) -> Response:
    session = current(request)
    form = await request.form()
    back = str(form.get("back") or f"{PREFIX}/appeals")
    try:
        check_csrf(session, form.get("csrf"))
        with _casework(request).acting() as service:
            outcome = service.decide_appeal(
                appeal_id,
                session.reviewer,
                outcome=str(form.get("outcome") or ""),
                reason=str(form.get("reason") or ""),
                label=str(form.get("label") or "") or None,
            )
    except TakedownError as error:
        return _back(safe_next(back), error=error.message)
    verb = (
        "overturned; the item is restored"
        if outcome.decision.action.value == "restore"
        else "upheld"
    )
    return _back(f"{PREFIX}/appeals", done=f"Appeal {appeal_id} {verb}.")


@router.get("/decisions/{decision_id}/statement")
def statement_page(decision_id: int, request: Request) -> Response:
    session = current(request)
    try:
        statement = _casework(request).statement(decision_id)
    except TakedownError as error:
        return render.page(
            "error.html", request, status=404, session=session, message=error.message
        )
    return render.page("statement.html", request, session=session, s=statement)


def mount(app: FastAPI) -> None:
    """Add the reviewer UI (pages and static assets, under /review) to the API app."""
    app.include_router(router)
    app.include_router(account_pages.router)
    app.mount(
        f"{PREFIX}/static",
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="review-static",
    )

    @app.exception_handler(SignInRequired)
    async def _sign_in(_request: Request, error: SignInRequired) -> Response:
        return login_redirect(error.next_path)
