"""Local image features (ORB keypoints + 256-bit binary descriptors): the second image signal.

PDQ is one global hash: a 5-10% crop or a caption band moves every one of its 256 bits and it
stops matching. Local features survive that, because most keypoints of the original are still
in the copy, unmoved relative to each other. A match is a set of descriptor pairs that one
similarity transform (scale, rotation, shift) explains: RANSAC finds it, the number of inliers
is the evidence, and the banked picture's outline mapped through that transform is the matched
region a reviewer sees. docs/hashing.md says why ORB was chosen over AKAZE, SIFT and bank-side
PDQ crops, with the measured figures.

A `FeatureSet` is compact and self-contained (`encode`/`decode`): the frame size, up to
`BANK_FEATURES` keypoints (x, y at 1/8 pixel) and their descriptors, ~9 KB, versioned by a
4-byte magic. The signal's value is `orb1:` + base64 of it. Pictures with fewer than
`MIN_KEYPOINTS` keypoints (flat, tiny, blank) give no signal at all: like PDQ quality < 50, such
a set would match anything equally flat.

This signal is *on demand* (`on_demand = True`): the pipeline does not extract it for every
upload; the matcher computes it only for images no cheaper signal matched.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from takedown.core.content import ContentKind, Submission, make_submission
from takedown.core.errors import InvalidInput
from takedown.core.signals import Signal
from takedown.signals.imaging import decode_luma_fast_sized, open_image

PREFIX = "orb1:"
MAGIC = b"ORB1"
WORK_SIDE = 640
"""Banked pictures are reduced to this longer side before detection: enough detail for a
robust match, and detection at 1,600 px would cost ~4x more for no measured gain."""
QUERY_WORK_SIDE = 800
"""Queries get a larger frame: a picture shown small inside a screenshot or a UI frame keeps
enough pixels (screenshot frames: 70% matched at 640 px, 100% at 800 px, measured)."""
QUERY_FEATURES = 700
"""Keypoints detected on a query picture (more keypoints find more of a cropped original)."""
DETECT_FACTOR = 3
"""Corners detected per keypoint kept, so the grid spread has a choice."""
GRID = 4
BANK_FEATURES = 256
"""Keypoints kept for a banked original: the strongest, spread by ORB's pyramid."""
MIN_KEYPOINTS = 40
"""Fewer keypoints than this means a flat or tiny picture: no signal (degenerate)."""
MIN_INLIERS = 14
"""Geometrically consistent descriptor pairs needed for a match (0 false matches measured)."""
MAX_DESCRIPTOR_DISTANCE = 64
"""Hamming bits (of 256) within which two descriptors may pair up before RANSAC."""
REPROJECTION_PX = 6.0
"""RANSAC tolerance in work-frame pixels (640 px longer side)."""
MATCH_DISTANCE_SCALE = 100
THRESHOLD = MATCH_DISTANCE_SCALE - MIN_INLIERS
"""`compare` distance is 100 - inliers (capped), so ≤ 86 means at least 14 inliers."""

_HEADER = struct.Struct("<4sHHH")


@dataclass(frozen=True)
class FeatureSet:
    """Keypoints of one picture in its work frame (longer side `WORK_SIDE` or less)."""

    width: int
    height: int
    points: np.ndarray
    """float32 (n, 2): x, y in work-frame pixels."""
    descriptors: np.ndarray
    """uint8 (n, 32): ORB's 256-bit rBRIEF descriptors."""

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def degenerate(self) -> bool:
        return len(self) < MIN_KEYPOINTS

    def encode(self) -> bytes:
        count = len(self)
        fixed = np.clip(np.round(self.points * 8), 0, 65535).astype("<u2")
        return (
            _HEADER.pack(MAGIC, self.width, self.height, count)
            + fixed.tobytes()
            + np.ascontiguousarray(self.descriptors, dtype=np.uint8).tobytes()
        )

    @classmethod
    def decode(cls, blob: bytes) -> FeatureSet:
        if len(blob) < _HEADER.size:
            raise InvalidInput("local feature set is truncated")
        magic, width, height, count = _HEADER.unpack_from(blob)
        if magic != MAGIC:
            raise InvalidInput("not a local feature set", hint=f"starts with {magic!r}")
        expected = _HEADER.size + count * 4 + count * 32
        if len(blob) != expected:
            raise InvalidInput(f"local feature set has {len(blob)} bytes, expected {expected}")
        offset = _HEADER.size
        points = np.frombuffer(blob, "<u2", count * 2, offset).reshape(count, 2) / 8.0
        descriptors = np.frombuffer(blob, np.uint8, count * 32, offset + count * 4)
        return cls(width, height, points.astype(np.float32), descriptors.reshape(count, 32))

    def to_value(self) -> str:
        return PREFIX + base64.b64encode(self.encode()).decode("ascii")

    @classmethod
    def from_value(cls, value: str) -> FeatureSet:
        if not value.startswith(PREFIX):
            raise InvalidInput("an orb value starts with 'orb1:'", hint=value[:20])
        try:
            blob = base64.b64decode(value[len(PREFIX):], validate=True)
        except ValueError:
            raise InvalidInput("an orb value is base64 after 'orb1:'") from None
        return cls.decode(blob)

    def digest(self) -> str:
        """SHA-256 of the encoded set: how a bank entry refers to it (values are ~12 KB)."""
        return hashlib.sha256(self.encode()).hexdigest()


MIN_SIDE = 48


def _work_frame(luma: np.ndarray, side: int) -> np.ndarray:
    height, width = luma.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return np.ascontiguousarray(luma)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized: np.ndarray = cv2.resize(luma, size, interpolation=cv2.INTER_AREA)
    return resized


def features_from_luma(
    luma: np.ndarray, limit: int = QUERY_FEATURES, side: int | None = None, levels: int = 8
) -> FeatureSet:
    """ORB keypoints of a greyscale uint8 picture, at most `limit`, spread over the picture.

    Detection keeps `DETECT_FACTOR` times more corners than needed; then each cell of a
    `GRID` x `GRID` grid keeps its strongest share and the rest go to the strongest overall.
    Without the spread, a caption or a logo's sharp letters take most of the budget and the
    picture itself is left with too few keypoints to verify (measured: caption bands 79% → 100%).
    """
    frame = _work_frame(np.asarray(luma, dtype=np.uint8), side or _side_for(limit))
    height, width = frame.shape[:2]
    empty = FeatureSet(width, height, np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    if min(height, width) < MIN_SIDE:
        # A sliver (a corrupt header can claim 96x20,800) has no room for ORB's pyramid, whose
        # resize then fails; it has too few keypoints to match anyway.
        return empty
    orb = cv2.ORB.create(nfeatures=limit * DETECT_FACTOR, scaleFactor=1.2, nlevels=levels,
                         edgeThreshold=19, patchSize=19, fastThreshold=12)
    keypoints = _spread(list(orb.detect(frame, None)), width, height, limit)
    computed, descriptors = orb.compute(frame, keypoints)
    if descriptors is None or not computed:
        return empty
    order = np.argsort([-k.response for k in computed], kind="stable")[:limit]
    points = np.array([computed[i].pt for i in order], dtype=np.float32)
    return FeatureSet(width, height, points, descriptors[order])


def _spread(keypoints: list[cv2.KeyPoint], width: int, height: int,
            limit: int) -> list[cv2.KeyPoint]:
    if len(keypoints) <= limit:
        return keypoints
    ranked = sorted(keypoints, key=lambda k: -k.response)
    per_cell = max(1, limit // (GRID * GRID))
    counts: dict[tuple[int, int], int] = {}
    chosen: list[cv2.KeyPoint] = []
    rest: list[cv2.KeyPoint] = []
    for keypoint in ranked:
        cell = (min(GRID - 1, int(keypoint.pt[0] * GRID / width)),
                min(GRID - 1, int(keypoint.pt[1] * GRID / height)))
        if counts.get(cell, 0) < per_cell:
            counts[cell] = counts.get(cell, 0) + 1
            chosen.append(keypoint)
        else:
            rest.append(keypoint)
    return chosen + rest[: limit - len(chosen)]


def _side_for(limit: int) -> int:
    return WORK_SIDE if limit <= BANK_FEATURES else QUERY_WORK_SIDE


def features_from_bytes(data: bytes, limit: int = QUERY_FEATURES) -> FeatureSet:
    """Features of an image file, decoded with the fast luma decoder at just the resolution
    the work frame needs (a 1,600 px JPEG is decoded at 1/2 scale, not in full)."""
    return features_from_luma(query_luma(data, _side_for(limit)), limit, _side_for(limit))


def query_luma(data: bytes, side: int = QUERY_WORK_SIDE) -> np.ndarray:
    """An image file's grey pixels at the smallest decode whose longer side reaches `side`
    (or the file's own size): what a query's features are detected on, and what a second look
    at part of the picture (`local_inset`) cuts from without decoding the file again."""
    width, height = open_image(data).size
    min_side = max(1, -(-side * min(width, height) // max(width, height)))
    luma, _size = decode_luma_fast_sized(data, min_side)
    return luma


@dataclass(frozen=True)
class Verification:
    """A geometrically verified match: inliers, and the banked picture's outline in the query's
    frame as fractions of its width/height (the region the reviewer UI draws)."""

    inliers: int
    pairs: int
    region: list[tuple[float, float]]
    scale: float
    inset: list[float] | None = None
    """Where in the upload the lookup looked, when it looked at a cut-out (`local_inset`):
    left, top, right, bottom as fractions; `region` is then already in the upload's frame."""

    @property
    def distance(self) -> int:
        return max(0, MATCH_DISTANCE_SCALE - min(self.inliers, MATCH_DISTANCE_SCALE))

    @property
    def score(self) -> float:
        return round(min(1.0, self.inliers / 60), 3)

    def evidence(self) -> dict[str, object]:
        return {
            "inliers": self.inliers,
            "pairs": self.pairs,
            "region": [[round(x, 4), round(y, 4)] for x, y in self.region],
            "scale": round(self.scale, 3),
            **({"inset": self.inset} if self.inset is not None else {}),
        }


def verify(
    query: FeatureSet, banked: FeatureSet, pairs: np.ndarray
) -> Verification | None:
    """RANSAC a similarity transform banked → query over candidate (query_i, banked_j) pairs;
    None unless at least `MIN_INLIERS` pairs agree and the transform is plausible."""
    if pairs.shape[0] < MIN_INLIERS:
        return None
    source = banked.points[pairs[:, 1]].reshape(-1, 1, 2)
    target = query.points[pairs[:, 0]].reshape(-1, 1, 2)
    matrix, mask = cv2.estimateAffinePartial2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=REPROJECTION_PX,
        maxIters=500, confidence=0.995, refineIters=5,
    )
    if matrix is None or mask is None:
        return None
    inliers = int(mask.sum())
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    if inliers < MIN_INLIERS or not 0.2 <= scale <= 5.0:
        return None
    # One keypoint matched many times is not geometric evidence: count distinct positions.
    chosen = pairs[mask.ravel().astype(bool)]
    distinct = min(len(np.unique(chosen[:, 0])), len(np.unique(chosen[:, 1])))
    if distinct < MIN_INLIERS:
        return None
    corners = np.array([[0, 0], [banked.width, 0], [banked.width, banked.height],
                        [0, banked.height]], dtype=np.float64)
    mapped = corners @ matrix[:, :2].T + matrix[:, 2]
    region = [(float(x / query.width), float(y / query.height)) for x, y in mapped]
    return Verification(distinct, int(pairs.shape[0]), region, scale)


def candidate_pairs(query: FeatureSet, banked: FeatureSet) -> np.ndarray:
    """Mutual nearest descriptors within `MAX_DESCRIPTOR_DISTANCE` (brute force, one pair)."""
    if len(query) == 0 or len(banked) == 0:
        return np.zeros((0, 2), np.int64)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True)
    matches = matcher.match(query.descriptors, banked.descriptors)
    kept = [(m.queryIdx, m.trainIdx) for m in matches if m.distance <= MAX_DESCRIPTOR_DISTANCE]
    return np.array(kept, dtype=np.int64).reshape(-1, 2)


def match_sets(query: FeatureSet, banked: FeatureSet) -> Verification | None:
    """Verify one query against one banked set (the pairwise path; indexes do the same)."""
    if query.degenerate or banked.degenerate:
        return None
    return verify(query, banked, candidate_pairs(query, banked))


class LocalFeatureSignal:
    """The `orb` signal type: an image's banked feature set (`orb1:` + base64) as its value.

    `compare` is 100 - verified inliers (0 when ≥ 100 agree; 100 when nothing does), symmetric
    because both directions are tried and the better kept. Degenerate pictures (fewer than
    `MIN_KEYPOINTS` keypoints) extract nothing.
    """

    name = "orb"
    kinds = frozenset({ContentKind.IMAGE})
    threshold = THRESHOLD
    on_demand = True

    def extract(self, submission: Submission) -> Sequence[Signal]:
        if not submission.content:
            return []
        features = features_from_bytes(submission.content, BANK_FEATURES)
        if features.degenerate:
            return []
        meta = {"keypoints": len(features), "digest": features.digest()}
        return [Signal(self.name, features.to_value(), meta)]

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        first, second = FeatureSet.from_value(a), FeatureSet.from_value(b)
        results = [match_sets(first, second), match_sets(second, first)]
        best = max((r.inliers for r in results if r is not None), default=0)
        return MATCH_DISTANCE_SCALE - min(best, MATCH_DISTANCE_SCALE)

    def canonicalize(self, value: str) -> str:
        """Banked values: a stored set's digest (64 hex digits, what `bank add-media` writes)
        or an inline set, which must decode and must not be degenerate (it would match anything
        flat)."""
        text = value.strip()
        if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
            return text.lower()
        features = FeatureSet.from_value(text)
        if features.degenerate:
            raise InvalidInput(
                f"feature set has {len(features)} keypoints, fewer than {MIN_KEYPOINTS}",
                hint="flat or tiny pictures cannot be matched reliably; bank their md5 instead",
            )
        return features.to_value()

    def examples(self) -> Sequence[tuple[Submission, str]]:
        data = example_picture()
        item = make_submission(item_id="ex-orb", kind=ContentKind.IMAGE, content=data)
        return [(item, features_from_bytes(data, BANK_FEATURES).to_value())]


def example_picture() -> bytes:
    """A deterministic 320x240 textured picture (ellipses and bars on a gradient), as PNG."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:240, 0:320]
    canvas = ((x * 0.4 + y * 0.3) % 256).astype(np.uint8)
    for _ in range(40):
        centre = (int(rng.integers(0, 320)), int(rng.integers(0, 240)))
        axes = (int(rng.integers(4, 30)), int(rng.integers(4, 30)))
        cv2.ellipse(canvas, centre, axes, float(rng.integers(0, 180)), 0, 360,
                    int(rng.integers(0, 256)), -1)
    ok, encoded = cv2.imencode(".png", canvas)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return bytes(encoded.tobytes())
