"""Statements of reasons in the DSA Transparency Database's v1 format (DSA Art 24(5)), and the
validator every statement passes before it is stored.

`to_tdb` flattens the statement takedown.review.statement builds (one builder for the user,
the reviewer and the database) into the database's top-level field names; `validate` checks the
rules the database enforces (required fields, allowed values, lengths, the PUID pattern, at
least one decision_* field, the ground's paired fields), plus one of ours: terrorist content
carries KEYWORD_TERRORIST_CONTENT. Source of the rules: the database's API documentation
(https://transparency.dsa.ec.europa.eu/page/api-documentation), as summarised in
tests/fixtures/tdb/README.md.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from takedown.core.decisions import ActionKind

VISIBILITY = frozenset(
    f"DECISION_VISIBILITY_{v}"
    for v in (
        "CONTENT_REMOVED",
        "CONTENT_DISABLED",
        "CONTENT_DEMOTED",
        "CONTENT_AGE_RESTRICTED",
        "CONTENT_INTERACTION_RESTRICTED",
        "CONTENT_LABELLED",
        "OTHER",
    )
)
MONETARY = frozenset(f"DECISION_MONETARY_{v}" for v in ("SUSPENSION", "TERMINATION", "OTHER"))
PROVISION = frozenset(
    f"DECISION_PROVISION_{v}"
    for v in ("PARTIAL_SUSPENSION", "TOTAL_SUSPENSION", "PARTIAL_TERMINATION", "TOTAL_TERMINATION")
)
ACCOUNT = frozenset({"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"})
GROUNDS = frozenset({"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"})
CONTENT_TYPES = frozenset(
    f"CONTENT_TYPE_{v}"
    for v in ("APP", "AUDIO", "IMAGE", "PRODUCT", "SYNTHETIC_MEDIA", "TEXT", "VIDEO", "OTHER")
)
CATEGORIES = frozenset(
    f"STATEMENT_CATEGORY_{v}"
    for v in (
        "ANIMAL_WELFARE",
        "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "ILLEGAL_OR_HARMFUL_SPEECH",
        "INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        "NON_CONSENSUAL_BEHAVIOUR",
        "PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        "PROTECTION_OF_MINORS",
        "RISK_FOR_PUBLIC_SECURITY",
        "SCAMS_AND_FRAUD",
        "SELF_HARM",
        "SCOPE_OF_PLATFORM_SERVICE",
        "UNSAFE_AND_ILLEGAL_PRODUCTS",
        "VIOLENCE",
        "OTHER_VIOLATION_TC",
        "NOT_SPECIFIED_NOTICE",
    )
)
SOURCE_TYPES = frozenset(
    {
        "SOURCE_ARTICLE_16",
        "SOURCE_TRUSTED_FLAGGER",
        "SOURCE_TYPE_OTHER_NOTIFICATION",
        "SOURCE_VOLUNTARY",
    }
)
AUTOMATED_DECISIONS = frozenset(
    {"AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"}
)
ACCOUNT_TYPES = frozenset({"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"})
EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
KEYWORD = re.compile(r"^KEYWORD_[A-Z_]+$")
PUID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RESTRICTIVE = (ActionKind.REMOVE.value, ActionKind.RESTRICT.value, ActionKind.SUSPEND.value)
TERRORIST = "KEYWORD_TERRORIST_CONTENT"


def puid_for(decision_id: int, item_id: str) -> str:
    """Unique per statement (one per decision), within the allowed characters."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", item_id)[:400]
    return f"td-{decision_id}-{cleaned}"


def to_tdb(statement: dict[str, Any], *, authority: str | None = None) -> dict[str, Any]:
    """The Transparency Database body for one restrictive decision's statement."""
    dsa = statement["dsa"]
    ground = statement["ground"]
    action = statement["decision"]["action"]
    out: dict[str, Any] = {}
    if action == ActionKind.SUSPEND.value:
        out["decision_account"] = "DECISION_ACCOUNT_SUSPENDED"
    else:
        out["decision_visibility"] = list(dsa["decision_visibility"])
        if "DECISION_VISIBILITY_OTHER" in out["decision_visibility"]:
            out["decision_visibility_other"] = f"Takedown action: {action}"
    out["decision_ground"] = ground["type"]
    if ground["type"] == "DECISION_GROUND_ILLEGAL_CONTENT":
        out["illegal_content_legal_ground"] = str(ground["legal_ground"])[:500]
        out["illegal_content_explanation"] = str(ground["explanation"])[:2000]
    elif ground["type"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        out["incompatible_content_ground"] = str(ground["contractual_ground"])[:500]
        out["incompatible_content_explanation"] = str(ground["explanation"])[:2000]
        out["incompatible_content_illegal"] = ground.get("incompatible_content_illegal", "No")
    out["content_type"] = list(dsa["content_type"])
    if "CONTENT_TYPE_OTHER" in out["content_type"]:
        out["content_type_other"] = "link or file"
    out["category"] = dsa["category"]
    if dsa.get("category_specification"):
        out["category_specification"] = list(dsa["category_specification"])
    out["content_date"] = dsa["content_date"]
    out["application_date"] = dsa["application_date"]
    out["decision_facts"] = str(statement["facts_and_circumstances"])[:5000]
    out["source_type"] = dsa["source_type"]
    if dsa["source_type"] == "SOURCE_TYPE_OTHER_NOTIFICATION":
        out["source_identity"] = (authority or "competent authority (TCO removal order)")[:500]
    elif dsa["source_type"] == "SOURCE_ARTICLE_16":
        out["source_identity"] = "user notice (DSA Art 16)"
    out["automated_detection"] = dsa["automated_detection"]
    out["automated_decision"] = dsa["automated_decision"]
    out["puid"] = puid_for(int(statement["decision_id"]), str(statement["item_id"]))
    return out


def _text(
    errors: list[str], body: dict[str, Any], field: str, limit: int, *, required: bool
) -> None:
    value = body.get(field)
    if value is None or value == "":
        if required:
            errors.append(f"{field}: required")
        return
    if not isinstance(value, str):
        errors.append(f"{field}: must be a string")
    elif len(value) > limit:
        errors.append(f"{field}: at most {limit} characters, got {len(value)}")


def _choice(
    errors: list[str],
    body: dict[str, Any],
    field: str,
    allowed: frozenset[str],
    *,
    required: bool = False,
    many: bool = False,
) -> None:
    value = body.get(field)
    if value is None:
        if required:
            errors.append(f"{field}: required")
        return
    values = value if many else [value]
    if many and (not isinstance(value, list) or not value):
        errors.append(f"{field}: must be a non-empty list")
        return
    for v in values:
        if v not in allowed:
            errors.append(f"{field}: {v!r} is not an allowed value")


def _date(
    errors: list[str], body: dict[str, Any], field: str, earliest: date, *, required: bool
) -> None:
    value = body.get(field)
    if value is None:
        if required:
            errors.append(f"{field}: required")
        return
    if not isinstance(value, str) or not DATE.match(value):
        errors.append(f"{field}: must be YYYY-MM-DD")
        return
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        errors.append(f"{field}: {value!r} is not a date")
        return
    if parsed < earliest:
        errors.append(f"{field}: must be on or after {earliest.isoformat()}")


def validate(body: dict[str, Any], *, terrorist: bool | None = None) -> list[str]:
    """Every rule the statement breaks, as `field: problem`; empty when it is valid.
    `terrorist` (default: inferred from the category) demands KEYWORD_TERRORIST_CONTENT."""
    errors: list[str] = []
    if not any(
        body.get(f)
        for f in (
            "decision_visibility",
            "decision_monetary",
            "decision_provision",
            "decision_account",
        )
    ):
        errors.append(
            "decision_*: at least one of decision_visibility, decision_monetary, "
            "decision_provision, decision_account is required"
        )
    _choice(errors, body, "decision_visibility", VISIBILITY, many=True)
    if "DECISION_VISIBILITY_OTHER" in (body.get("decision_visibility") or []):
        _text(errors, body, "decision_visibility_other", 500, required=True)
    _choice(errors, body, "decision_monetary", MONETARY)
    _choice(errors, body, "decision_provision", PROVISION)
    _choice(errors, body, "decision_account", ACCOUNT)
    _choice(errors, body, "account_type", ACCOUNT_TYPES)
    _choice(errors, body, "decision_ground", GROUNDS, required=True)
    if body.get("decision_ground") == "DECISION_GROUND_ILLEGAL_CONTENT":
        _text(errors, body, "illegal_content_legal_ground", 500, required=True)
        _text(errors, body, "illegal_content_explanation", 2000, required=True)
    if body.get("decision_ground") == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        _text(errors, body, "incompatible_content_ground", 500, required=True)
        _text(errors, body, "incompatible_content_explanation", 2000, required=True)
        _choice(errors, body, "incompatible_content_illegal", frozenset({"Yes", "No"}))
    _choice(errors, body, "content_type", CONTENT_TYPES, required=True, many=True)
    if "CONTENT_TYPE_OTHER" in (body.get("content_type") or []):
        _text(errors, body, "content_type_other", 500, required=True)
    _choice(errors, body, "category", CATEGORIES, required=True)
    specs = body.get("category_specification")
    if specs is not None:
        if not isinstance(specs, list) or not all(
            isinstance(s, str) and KEYWORD.match(s) for s in specs
        ):
            errors.append("category_specification: a list of KEYWORD_* values")
        elif "KEYWORD_OTHER" in specs:
            _text(errors, body, "category_specification_other", 500, required=True)
    if terrorist is None:
        terrorist = body.get("category") == "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    if terrorist and TERRORIST not in (specs or []):
        errors.append(f"category_specification: terrorist content carries {TERRORIST}")
    scope = body.get("territorial_scope")
    if scope is not None and (not isinstance(scope, list) or any(c not in EEA for c in scope)):
        errors.append("territorial_scope: a list of EEA country codes")
    lang = body.get("content_language")
    if lang is not None and not (isinstance(lang, str) and re.fullmatch(r"[A-Z]{2}", lang)):
        errors.append("content_language: ISO 639-1, upper case")
    _date(errors, body, "content_date", date(2000, 1, 1), required=True)
    _date(errors, body, "application_date", date(2020, 1, 1), required=True)
    for which in ("account", "monetary", "service", "visibility"):
        _date(errors, body, f"end_date_{which}_restriction", date(2020, 1, 1), required=False)
    _text(errors, body, "decision_facts", 5000, required=True)
    _choice(errors, body, "source_type", SOURCE_TYPES, required=True)
    _text(errors, body, "source_identity", 500, required=False)
    if body.get("source_type") == "SOURCE_VOLUNTARY" and body.get("source_identity"):
        errors.append("source_identity: absent when source_type is SOURCE_VOLUNTARY")
    _choice(errors, body, "automated_detection", frozenset({"Yes", "No"}), required=True)
    _choice(errors, body, "automated_decision", AUTOMATED_DECISIONS, required=True)
    puid = body.get("puid")
    if not isinstance(puid, str) or not PUID.match(puid):
        errors.append("puid: required, at most 500 of letters, digits, '-' and '_'")
    return errors
