"""Turning findings into what a reviewer reads: text split into plain and highlighted parts.

Classifiers put character spans (`{"start", "end"}`) and terms (`"term"` or `{"term": ...}`)
in Finding.evidence; a term hidden by evasion has no verbatim span, so terms without spans are
searched for case-insensitively. Overlapping spans merge so the page never nests highlights.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_TERMS = 50


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool


def _span_bounds(raw: Any, length: int) -> tuple[int, int] | None:
    if isinstance(raw, dict):
        start, end = raw.get("start"), raw.get("end")
    elif isinstance(raw, list | tuple) and len(raw) >= 2:
        start, end = raw[0], raw[1]
    else:
        return None
    if not isinstance(start, int) or not isinstance(end, int):
        return None
    start, end = max(0, start), min(length, end)
    return (start, end) if start < end else None


def _term_text(raw: Any) -> str | None:
    term = raw.get("term") if isinstance(raw, dict) else raw
    return term.strip() if isinstance(term, str) and term.strip() else None


def evidence_terms(findings: Iterable[dict[str, Any]]) -> list[str]:
    """Every evidence term across findings, in first-seen order, without repeats."""
    seen: dict[str, None] = {}
    for finding in findings:
        evidence = finding.get("evidence") or {}
        for key in ("terms", "tvec_terms"):
            for raw in evidence.get(key) or []:
                term = _term_text(raw)
                if term and term.lower() not in seen:
                    seen[term.lower()] = None
    return list(seen)[:MAX_TERMS]


def evidence_spans(text: str, findings: Iterable[dict[str, Any]]) -> list[tuple[int, int]]:
    """Merged character ranges to highlight in `text`."""
    findings = list(findings)
    ranges: list[tuple[int, int]] = []
    for finding in findings:
        for raw in (finding.get("evidence") or {}).get("spans") or []:
            bounds = _span_bounds(raw, len(text))
            if bounds:
                ranges.append(bounds)
    if not ranges:
        for term in evidence_terms(findings):
            pattern = r"\W+".join(re.escape(word) for word in term.split())
            for match in re.finditer(rf"(?<!\w){pattern}(?!\w)", text, flags=re.IGNORECASE):
                ranges.append((match.start(), match.end()))
    return _merge(ranges)


def _merge(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, findings: Iterable[dict[str, Any]]) -> list[Segment]:
    """`text` as consecutive segments; the marked ones are evidence."""
    out: list[Segment] = []
    at = 0
    for start, end in evidence_spans(text, findings):
        if start > at:
            out.append(Segment(text[at:start], False))
        out.append(Segment(text[start:end], True))
        at = end
    if at < len(text) or not out:
        out.append(Segment(text[at:], False))
    return out
