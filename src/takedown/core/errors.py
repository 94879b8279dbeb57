"""One exception tree, so the API and CLI can map failures in exactly one place each.

TakedownError
├── InvalidInput          bad request content (HTTP 400/413/415/422, CLI exit 2)
│   └── PayloadTooLarge   body or item over the configured limit (HTTP 413)
├── NotFound              unknown id (HTTP 404, CLI exit 3)
├── Conflict              state does not allow the operation (HTTP 409, CLI exit 4)
│   └── IllegalTransition a case cannot move that way
├── AuthError             missing or unknown credentials (HTTP 401, CLI exit 5)
│   └── Forbidden         known key without the needed role (HTTP 403)
├── RateLimited           a key sent more requests than its rate limit (HTTP 429)
├── Unavailable           an optional capability is not installed here (HTTP 503, CLI exit 6)
└── DeliveryError         a downstream system refused or failed (retried, never lost)
"""

from __future__ import annotations


class TakedownError(Exception):
    """Base of every error Takedown raises on purpose."""

    title = "Takedown error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InvalidInput(TakedownError):
    title = "Invalid input"


class PayloadTooLarge(InvalidInput):
    title = "Payload too large"


class UnsupportedMediaType(InvalidInput):
    title = "Unsupported media type"


class NotFound(TakedownError):
    title = "Not found"


class Conflict(TakedownError):
    title = "Conflict"


class IllegalTransition(Conflict):
    title = "Illegal state transition"


class AuthError(TakedownError):
    title = "Unauthorized"


class Forbidden(AuthError):
    title = "Forbidden"


class RateLimited(TakedownError):
    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class Unavailable(TakedownError):
    title = "Capability unavailable"


class DeliveryError(TakedownError):
    title = "Delivery failed"
