"""Keep secrets out of everything written down: outbox errors, the ledger and log lines.

Secrets reach text by accident: a webhook URL configured as `https://hooks.example/x?token=...`
is quoted by an HTTP client's error message, a URL with `user:password@` lands in an exception,
an API key is pasted into a reason field. `redact_text` masks, wherever they appear in a text,
the values of secret-looking URL query parameters, URL passwords, and Takedown API keys.
`redact_url` is for URLs we know are configuration (webhook targets): every query value and any
user info is masked, only scheme, host, port and path remain.

`install_log_redaction` applies `redact_text` to every log record the process creates,
including formatted tracebacks, so no handler (ours, uvicorn's, a user's) can write them whole.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

_SECRET_PARAM = re.compile(
    r"([?&;](?:[\w.-]*(?:token|secret|password|passwd|pwd|signature|sig|api[_-]?key|apikey"
    r"|auth|key|credential|session)[\w.-]*)=)[^&#\s\"'<>]*",
    re.IGNORECASE,
)
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@\"'<>]*:)[^@/\s\"'<>]+@", re.IGNORECASE)
_API_KEY = re.compile(r"\btdk_[A-Za-z0-9_-]{8,}")
_BEARER = re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)


_TRIGGER = re.compile(
    r"tdk_|bearer|://[^@]*@|[?&;][\w.-]*(?:token|secret|password|passwd|pwd|signature|sig"
    r"|api[_-]?key|apikey|auth|key|credential|session)[\w.-]*=",
    re.IGNORECASE,
)
"""Matches wherever any pattern above could match (each needs `tdk_`, `bearer`, `://`...`@`,
or a secret-named parameter's `name=`), and only rarely elsewhere: most texts, and most JSON
documents, are shown secret-free by this one search. None of these substrings is changed by
JSON encoding (`"`, `\\` and control characters are the only characters escaped), so a JSON
document it does not match holds no string, key or value, that needs masking."""


def might_hold_secret(text: str) -> bool:
    return _TRIGGER.search(text) is not None


def redact_text(text: str) -> str:
    """`text` with secret-looking URL parameters, URL passwords and API keys masked."""
    if not might_hold_secret(text):
        return text
    text = _SECRET_PARAM.sub(lambda m: m.group(1) + MASK, text)
    text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    text = _API_KEY.sub("tdk_" + MASK, text)
    return _BEARER.sub(lambda m: m.group(1) + MASK, text)


def redact_url(url: str) -> str:
    """A configured URL safe to show: no user info, every query value masked, no fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = "&".join(
        f"{pair.split('=', 1)[0]}={MASK}" if pair else pair for pair in parts.query.split("&")
    ) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_value(value: Any) -> Any:
    """Every string inside a JSON-like value, redacted (keys included)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact_text(str(k)): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


_installed = False


def install_log_redaction() -> None:
    """Redact every log record from now on (idempotent; a process-wide record factory)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string stays the handler's problem
            return record
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
