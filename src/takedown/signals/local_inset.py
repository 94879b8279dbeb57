"""The picture inside a screenshot: where it is, so local features can look it up on its own.

A screenshot of a post shows the banked picture small, inside a user interface: bars, an
avatar, names, text lines, buttons. Looked up whole, the picture's keypoints are a minority of
the query's (the interface's letters and edges take the rest), it is drawn at a fraction of the
banked scale, and the vote for it is drowned by every banked picture that shares text strokes
(measured in the words form: screenshot frames 54.5% matched on held-out pictures, every other
edit 97-100%). Cut out and looked up at the banked work size, it is an ordinary, slightly
cropped copy.

How the picture is found: an interface is flat (single-colour panels, bars, rounded
rectangles) except for thin text lines and small icons; a photo is texture. The grey frame is
cut into small blocks, and a block is *textured* when its grey levels vary along its rows and
along its columns (a panel's straight edge varies across the edge only). Every textured
structure thinner than 7% of the longer side (a text line, a rule, an icon) is opened away,
holes (a patch of sky) are closed, and the bounding box of the textured regions at least a
quarter the size of the largest is the inset, when it covers `MIN_SHARE`-`MAX_SHARE` of the
image and is at least `MIN_FILL` textured. A plain photo is textured almost everywhere and has
no inset. The analysis costs ~1-3 ms and runs only when the whole picture matched nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from takedown.signals.local_features import WORK_SIDE, FeatureSet, features_from_luma

INSET_FEATURES = 300
INSET_LEVELS = 4
"""Keypoints and ORB pyramid levels for the cut-out: it is the picture alone, already brought
to the banked work size, so it needs fewer keypoints than a whole query (700) and few scales
(the banked sets hold 8). On the 33 held-out pictures' 1,600 px JPEG screenshots in a words-form
bank (3,000 distractors) the second look found 31 with 400 or 300 keypoints and 8, 5 or 3
levels alike, at 23.0 / 21.2 / 19.6 / 17.1 ms CPU (400x8, 300x8, 300x5, 300x3); looking up the
whole query's keypoints that fall inside the inset instead found 27, at 8.7 ms."""
ANALYSIS_SIDE = 512
"""Longer side of the grey frame the layout is analysed on (blocks of `BLOCK` pixels)."""
BLOCK = 4
TEXTURE_STD = 2.0
"""Grey-level standard deviation above which a block is texture (JPEG noise on a flat
interface panel stays at 1-2 levels; a photo's flattest sky is usually above 5 somewhere in
every few blocks, and the closing fills the rest)."""
CLOSE_BLOCKS = 5
OPEN_SHARE = 0.07
"""Structures thinner than this share of the longer side are interface (text lines, rules,
icons), opened away before the regions are measured."""
MIN_SHARE = 0.10
MAX_SHARE = 0.80
"""An inset covers 10-80% of the image: less is an icon or a thumbnail, more is the picture
itself with a border or a caption, which the whole-image lookup already handles."""
MIN_FILL = 0.3
"""Share of the region's bounding box that is textured: a photo's sky or a plain backdrop is
smooth and leaves holes, a scatter of left-over interface specks is mostly empty."""
PART_SHARE = 0.25
"""Textured regions at least this share of the largest one are parts of the picture (a
building and a tree with smooth sky between them); smaller ones are avatars and emoji."""


@dataclass(frozen=True)
class Inset:
    """A region of the image, in fractions of its width and height."""

    left: float
    top: float
    right: float
    bottom: float

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in an image of the given size."""
        return (round(self.left * width), round(self.top * height),
                round(self.right * width), round(self.bottom * height))

    def to_image(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Points in fractions of the inset → fractions of the whole image (how a match's
        region, found in the cut-out, is drawn on the upload the reviewer sees)."""
        width, height = self.right - self.left, self.bottom - self.top
        return [(self.left + x * width, self.top + y * height) for x, y in points]

    def as_list(self) -> list[float]:
        return [round(v, 4) for v in (self.left, self.top, self.right, self.bottom)]


def find_inset(luma: np.ndarray) -> Inset | None:
    """The largest picture-like region of a screenshot-like grey image, or None."""
    height, width = luma.shape[:2]
    if min(height, width) < 4 * BLOCK:
        return None
    scale = min(1.0, ANALYSIS_SIDE / max(height, width))
    small = luma if scale == 1.0 else cv2.resize(
        luma, (max(1, round(width * scale)), max(1, round(height * scale))),
        interpolation=cv2.INTER_AREA)
    textured = _textured_blocks(small)
    rows, cols = textured.shape
    if min(rows, cols) < 4:
        return None
    side = max(3, round(OPEN_SHARE * max(rows, cols)) | 1)
    opened = cv2.morphologyEx(textured, cv2.MORPH_OPEN, np.ones((side, side), np.uint8))
    closed = cv2.morphologyEx(opened, cv2.MORPH_CLOSE,
                              np.ones((CLOSE_BLOCKS, CLOSE_BLOCKS), np.uint8))
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(closed, connectivity=4)
    if count < 2:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    parts = stats[1:][areas >= PART_SHARE * areas.max()]
    x0, y0 = int(parts[:, 0].min()), int(parts[:, 1].min())
    x1 = int((parts[:, 0] + parts[:, 2]).max())
    y1 = int((parts[:, 1] + parts[:, 3]).max())
    box = (x1 - x0) * (y1 - y0)
    if not MIN_SHARE <= box / (rows * cols) <= MAX_SHARE or parts[:, 4].sum() < MIN_FILL * box:
        return None
    return Inset(x0 / cols, y0 / rows, x1 / cols, y1 / rows)


def _textured_blocks(small: np.ndarray) -> np.ndarray:
    """uint8 (rows, cols): 1 where a `BLOCK` x `BLOCK` block's grey levels vary both along
    its rows and along its columns. A straight edge of a flat panel (a bar, a rounded
    rectangle, a rule) varies across the edge only, so it is not texture; photo texture and
    letters vary both ways."""
    rows, cols = small.shape[0] // BLOCK, small.shape[1] // BLOCK
    blocks = small[: rows * BLOCK, : cols * BLOCK].astype(np.float32)
    blocks = blocks.reshape(rows, BLOCK, cols, BLOCK)
    along_rows = blocks.std(axis=3).mean(axis=1)
    along_columns = blocks.std(axis=1).mean(axis=2)
    textured: np.ndarray = (np.minimum(along_rows, along_columns) > TEXTURE_STD).astype(np.uint8)
    return textured


def cut_out(luma: np.ndarray, inset: Inset) -> np.ndarray:
    """The inset's pixels of `luma` (any resolution of the same image)."""
    height, width = luma.shape[:2]
    x0, y0, x1, y1 = inset.pixels(width, height)
    region: np.ndarray = np.ascontiguousarray(luma[y0:y1, x0:x1])
    return region


def inset_features(luma: np.ndarray) -> tuple[Inset, FeatureSet] | None:
    """The inset of a query's grey frame and its features, or None when the image has none.

    The cut-out is brought to the banked pictures' work size (`WORK_SIDE`), up-sampled when
    the screenshot shows it smaller: its keypoints are then found at the scale the banked
    ones were, instead of in ORB's coarsest pyramid levels."""
    inset = find_inset(luma)
    if inset is None:
        return None
    region = cut_out(luma, inset)
    height, width = region.shape[:2]
    scale = WORK_SIDE / max(height, width)
    if scale > 1:
        region = cv2.resize(region, (round(width * scale), round(height * scale)),
                            interpolation=cv2.INTER_LINEAR)
    return inset, features_from_luma(region, INSET_FEATURES, WORK_SIDE, INSET_LEVELS)
