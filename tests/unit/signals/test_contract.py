"""One contract suite over every registered signal type (built-ins and installed plug-ins)."""

from __future__ import annotations

import pytest

from takedown.core.content import ContentKind
from takedown.core.detection import SignalType
from takedown.signals.registry import default_registry
from takedown_testing import need_module

REGISTRY = default_registry()
TYPES = list(REGISTRY)
EXPECTED_BUILTINS = {"md5", "sha256", "text_sha256", "pdq", "vpdq", "tlsh", "minhash", "url", "orb",
                     "domain"}


def test_all_builtin_types_are_registered() -> None:
    assert set(REGISTRY.names()) >= EXPECTED_BUILTINS


@pytest.mark.parametrize("signal_type", TYPES, ids=lambda t: t.name)
def test_implements_the_protocol(signal_type: SignalType) -> None:
    assert isinstance(signal_type, SignalType)
    assert signal_type.name and signal_type.name == signal_type.name.strip().lower()
    assert signal_type.kinds and set(signal_type.kinds) <= set(ContentKind)


@pytest.mark.parametrize("signal_type", TYPES, ids=lambda t: t.name)
def test_examples_extract_to_their_expected_value(signal_type: SignalType) -> None:
    _needs_its_library(signal_type)
    examples = list(signal_type.examples())
    assert examples, "every type ships at least one example"
    for submission, expected in examples:
        assert submission.kind in signal_type.kinds
        signals = list(signal_type.extract(submission))
        assert signals, f"{signal_type.name} extracted nothing from its own example"
        values = [s.value for s in signals]
        assert all(s.type == signal_type.name for s in signals)
        assert all(isinstance(v, str) and v for v in values)
        assert expected in values or any(signal_type.compare(v, expected) == 0 for v in values)


@pytest.mark.parametrize("signal_type", TYPES, ids=lambda t: t.name)
def test_compare_is_a_distance(signal_type: SignalType) -> None:
    values = [v for _, v in signal_type.examples()]
    for value in values:
        assert signal_type.compare(value, value) == 0
    for a in values:
        for b in values:
            assert signal_type.compare(a, b) == signal_type.compare(b, a) >= 0


@pytest.mark.parametrize("signal_type", TYPES, ids=lambda t: t.name)
def test_extraction_is_deterministic(signal_type: SignalType) -> None:
    _needs_its_library(signal_type)
    submission, _ = signal_type.examples()[0]
    first = [s.value for s in signal_type.extract(submission)]
    assert first == [s.value for s in signal_type.extract(submission)]


def _needs_its_library(signal_type: SignalType) -> None:
    if signal_type.name == "vpdq":
        need_module("vpdq", "pip install '.[video]'")
