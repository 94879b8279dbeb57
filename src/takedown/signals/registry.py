"""One registry of signal types; built-ins and third-party plug-ins register the same way.

Third-party packages add types through the `takedown.signal_types` entry-point group.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points

from takedown.core.detection import SignalType
from takedown.core.errors import Conflict, NotFound

_HEX = re.compile(r"[0-9a-fA-F]+")
_LOWER_HEX = re.compile(r"[0-9a-f]+")


class SignalRegistry:
    def __init__(self) -> None:
        self._types: dict[str, SignalType] = {}

    def register(self, signal_type: SignalType) -> None:
        if signal_type.name in self._types:
            raise Conflict(f"signal type {signal_type.name!r} is registered twice")
        self._types[signal_type.name] = signal_type

    def get(self, name: str) -> SignalType:
        try:
            return self._types[name]
        except KeyError:
            raise NotFound(
                f"unknown signal type {name!r}", hint=f"known: {', '.join(sorted(self._types))}"
            ) from None

    def __iter__(self) -> Iterator[SignalType]:
        return iter(list(self._types.values()))

    def canonical(self, name: str, value: str) -> str:
        """A bank value in the form the signal type produces (hex hashes are lower-case)."""
        return self.canonicalizer(name)(value)

    def canonicalizer(self, name: str) -> Callable[[str], str]:
        """`canonical` for one type as a function, for callers canonicalising many values."""
        canonicalize = getattr(self.get(name), "canonicalize", None)
        if canonicalize is not None:
            return lambda value: str(canonicalize(value))
        return _canonical_text

    def names(self) -> list[str]:
        return sorted(self._types)


def _canonical_text(value: str) -> str:
    if _LOWER_HEX.fullmatch(value):  # already canonical: most values a peer sends
        return value
    value = value.strip()
    return value.lower() if _HEX.fullmatch(value) else value


def default_registry() -> SignalRegistry:
    """Built-in types plus any installed plug-ins, built fresh (no import-time global state)."""
    registry = SignalRegistry()
    for ep in sorted(entry_points(group="takedown.signal_types"), key=lambda e: e.name):
        registry.register(ep.load()())
    if not registry.names():
        raise NotFound(
            "no signal types are registered", hint="install the package: pip install -e ."
        )
    return registry
