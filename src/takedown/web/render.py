"""Rendering for the reviewer UI: one autoescaping Jinja2 environment, strict security headers,
and safe media responses.

Pages use no inline script or style, so the Content-Security-Policy can forbid both; nothing is
loaded from outside the app (works offline, no CDN).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from takedown.core.taxonomy import DESCRIPTIONS, TvecLabel
from takedown.web.session import PREFIX

HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
LABELS = [(label.value, DESCRIPTIONS[label]) for label in TvecLabel]

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def page(name: str, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    values: dict[str, Any] = {
        "request": request,
        "prefix": PREFIX,
        "labels": LABELS,
        "flash": request.query_params.get("done"),
        "error": request.query_params.get("error"),
        "session": None,
    }
    html = _env.get_template(name).render({**values, **context})
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"ftyp", 4, "video/mp4"),
    (b"\x1a\x45\xdf\xa3", 0, "video/webm"),
)


def sniff(content: bytes) -> str:
    """The media type from the bytes' signature: never trust a declared type for display."""
    for magic, offset, media_type in MAGIC:
        if content[offset : offset + len(magic)] == magic:
            return media_type
    return "application/octet-stream"


def media_response(content: bytes) -> Response:
    media_type = sniff(content)
    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": "inline"
        if media_type != "application/octet-stream"
        else "attachment",
    }
    return Response(content, media_type=media_type, headers=headers)
