"""Banking a picture or a clip: reference PDQ / vPDQ hashes and local-feature sets (a clip's
key frames), degenerate ones refused.

A bank of hashes is only as good as its worst entry: a PDQ hash of a flat picture (quality
< 50) or a feature set with too few keypoints would match every flat upload. So each signal is
banked only when it carries information, the caller is told which were skipped and why, and a
picture for which neither does is refused with a hint (bank its exact hash instead). The
feature set goes to `feature_sets` under its digest; the bank entry holds the digest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from takedown.core.errors import InvalidInput, Unavailable
from takedown.signals.local_features import (
    BANK_FEATURES,
    MIN_KEYPOINTS,
    FeatureSet,
    features_from_bytes,
)
from takedown.signals.pdq import pdq_hash
from takedown.signals.video_frames import key_frame_features
from takedown.signals.vpdq import VPDQ_QUALITY_THRESHOLD, features_to_value, hash_video_bytes
from takedown.storage import banks as bank_store
from takedown.storage.db import reading
from takedown.storage.media import get_feature_set, put_feature_set


@dataclass(frozen=True)
class BankedPicture:
    pdq: str | None
    orb: str | None
    added: int
    already_present: int
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"pdq": self.pdq, "orb": self.orb, "added": self.added,
                "already_present": self.already_present, "warnings": self.warnings}


def bank_picture(
    engine: Engine, bank: str, data: bytes, *, note: str | None = None, actor: str
) -> BankedPicture:
    """Add a picture's PDQ hash and feature set to `bank` (InvalidInput if it is degenerate)."""
    reference = pdq_hash(data)
    features = features_from_bytes(data, BANK_FEATURES)
    warnings: list[str] = []
    if reference.low_quality:
        warnings.append(f"pdq skipped: quality {reference.quality} < 50 (flat or tiny picture)")
    if features.degenerate:
        warnings.append(f"orb skipped: {len(features)} keypoints < {MIN_KEYPOINTS}")
    if reference.low_quality and features.degenerate:
        raise InvalidInput(
            "picture is too flat to match perceptually: " + "; ".join(warnings),
            hint="bank its md5/sha256 with `takedown bank import` instead",
        )
    with engine.begin() as conn:
        entries: list[tuple[str, str, str | None]] = []
        if not reference.low_quality:
            entries.append(("pdq", reference.hash, note))
        digest = None
        if not features.degenerate:
            digest = put_feature_set(conn, features)
            entries.append(("orb", digest, note))
        added, present = bank_store.add_entries(conn, bank, entries, actor=actor)
    return BankedPicture(None if reference.low_quality else reference.hash, digest, added,
                         present, warnings)


@dataclass(frozen=True)
class BankedVideo:
    vpdq: str | None
    key_frames: list[str]
    added: int
    already_present: int
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"vpdq": self.vpdq is not None, "key_frames": len(self.key_frames),
                "added": self.added, "already_present": self.already_present,
                "warnings": self.warnings}


def bank_video(
    engine: Engine, bank: str, data: bytes, *, note: str | None = None, actor: str
) -> BankedVideo:
    """Add a clip's reference vPDQ hash and its key frames' feature sets to `bank`.

    vPDQ matches re-encodes, resizes and (trimmed) letterboxed copies; the key frames, each an
    `orb` entry, match copies under a logo or caption that vPDQ misses, and a still taken from
    the clip. Without the `video` extra only the key frames are banked, and the caller is told.
    """
    warnings: list[str] = []
    reference: str | None = None
    try:
        frames = hash_video_bytes(data)
        if any(f.quality >= VPDQ_QUALITY_THRESHOLD for f in frames):
            reference = features_to_value(frames)
        else:
            warnings.append("vpdq skipped: no frame of quality >= 50")
    except (Unavailable, InvalidInput) as error:
        warnings.append(f"vpdq skipped: {error.message}")
    key_frames = [features for _at, features in key_frame_features(data, BANK_FEATURES)]
    if not key_frames:
        warnings.append(f"orb skipped: no key frame with {MIN_KEYPOINTS} keypoints or more")
    if reference is None and not key_frames:
        raise InvalidInput(
            "the clip cannot be matched perceptually: " + "; ".join(warnings),
            hint="is it a video? bank its md5/sha256 with `takedown bank import` instead",
        )
    with engine.begin() as conn:
        entries: list[tuple[str, str, str | None]] = []
        if reference is not None:
            entries.append(("vpdq", reference, note))
        digests = [put_feature_set(conn, features) for features in key_frames]
        entries += [("orb", digest, note) for digest in dict.fromkeys(digests)]
        added, present = bank_store.add_entries(conn, bank, entries, actor=actor)
    return BankedVideo(reference, digests, added, present, warnings)


def feature_resolver(engine: Engine) -> Callable[[str], FeatureSet | None]:
    """What the `orb` index calls to turn a bank entry's digest into its stored features."""
    def resolve(digest: str) -> FeatureSet | None:
        with reading(engine) as conn:
            return get_feature_set(conn, digest)

    return resolve
