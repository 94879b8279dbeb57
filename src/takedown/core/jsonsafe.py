"""Decode untrusted JSON within fixed bounds, so no request body can exhaust the stack, the CPU
or a database driver.

Python's `json` recurses once per nesting level (10,000 levels raise RecursionError), converts
integers of any length (quadratic; over 4,300 digits it raises ValueError) and accepts lone
surrogates ("\\ud800") and NUL characters, which SQLite's and PostgreSQL's drivers refuse only
at insert time. Here each of these is an `InvalidInput` naming the problem and where it is,
raised before anything is stored. NUL is refused on every backend alike (PostgreSQL cannot store
it in text), so one request behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from typing import Any

from takedown.core.errors import InvalidInput

MAX_DEPTH = 32
INT_RANGE = 2**63


def _parse_int(literal: str) -> int:
    """Integers must fit a database's signed 64 bits; the length is checked before converting,
    because converting a long literal is quadratic."""
    digits = len(literal.lstrip("-"))
    if digits > 19 or not -INT_RANGE <= (value := int(literal)) < INT_RANGE:
        raise InvalidInput(
            f"a number with {digits} digits is outside the signed 64-bit range",
            hint="send long identifiers as strings",
        )
    return value


def _parse_constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not valid JSON", hint="JSON has no NaN or Infinity")


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse `raw` and refuse what `check` refuses; raises InvalidInput, never anything else.

    Decoded UTF-8 cannot hold a lone surrogate, and JSON refuses a raw NUL in strings, so both
    can only come from `\\u` escapes: the full walk (`check`, which names where) runs only when
    such an escape is present or the value nests too deeply."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInput(
                f"the body is not valid UTF-8 (byte {error.start})", hint="encode JSON as UTF-8"
            ) from None
    else:
        text = raw
    try:
        value = json.loads(text, parse_int=_parse_int, parse_constant=_parse_constant)
    except RecursionError:
        raise InvalidInput(
            f"the JSON is nested too deeply (at most {max_depth} levels)"
        ) from None
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except ValueError as error:
        raise InvalidInput(f"the body is not valid JSON: {error}") from None
    if (
        not isinstance(value, dict | list)
        or _RISKY_ESCAPE.search(text)
        or not _encodable(text)
        or _too_deep(value, max_depth)
    ):
        check(value, max_depth=max_depth)
    return value


_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _encodable(text: str) -> bool:
    """False when a str given to `loads` already holds a lone surrogate (bytes cannot)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _too_deep(value: Any, max_depth: int) -> bool:
    """Whether containers nest over `max_depth`; visits containers only, so it costs a
    fraction of the full walk on a large batch."""
    level: list[Any] = [value]
    for _ in range(max_depth):
        nested: list[Any] = []
        for node in level:
            children = node.values() if isinstance(node, dict) else node
            nested.extend(c for c in children if isinstance(c, dict | list))
        if not nested:
            return False
        level = nested
    return True


def check(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse nesting over `max_depth`, lone surrogates and NUL in any key or string (iterative,
    so the check itself cannot overflow the stack)."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "$")]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, str):
            check_text(node, where)
        elif isinstance(node, dict | list):
            if depth > max_depth:
                raise InvalidInput(
                    f"the JSON is nested too deeply at {where} (at most {max_depth} levels)"
                )
            if isinstance(node, dict):
                for key, item in node.items():
                    check_text(key, f"{where} key")
                    stack.append((item, depth + 1, f"{where}.{key[:40]}"))
            else:
                stack.extend((item, depth + 1, f"{where}[{n}]") for n, item in enumerate(node))


def check_text(text: str, where: str) -> None:
    """Refuse strings a database cannot store faithfully: NUL and unpaired surrogates."""
    if "\x00" in text:
        raise InvalidInput(
            f"{where} contains a NUL character (\\u0000)", hint="remove NUL characters"
        )
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidInput(
            f"{where} contains a lone surrogate at character {error.start}",
            hint="strings must be valid Unicode: pair surrogates or drop them",
        ) from None
