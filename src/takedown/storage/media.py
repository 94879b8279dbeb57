"""Stored local-feature sets, addressed by digest (see `media_tables`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select

from takedown.signals.local_features import FeatureSet
from takedown.storage.media_tables import feature_sets


def put_feature_set(conn: Connection, features: FeatureSet, signal_type: str = "orb") -> str:
    """Store `features` (idempotent) and return the digest a bank entry refers to it by."""
    digest = features.digest()
    present = conn.execute(
        select(feature_sets.c.digest).where(feature_sets.c.digest == digest)
    ).first()
    if present is None:
        conn.execute(feature_sets.insert().values(
            digest=digest, signal_type=signal_type, data=features.encode(),
            created_at=datetime.now(UTC),
        ))
    return digest


def get_feature_set(conn: Connection, digest: str) -> FeatureSet | None:
    row = conn.execute(
        select(feature_sets.c.data).where(feature_sets.c.digest == digest)
    ).first()
    return FeatureSet.decode(bytes(row.data)) if row is not None else None
