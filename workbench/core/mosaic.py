"""Tiling many small 2-D maps (filters, depth slices, images) into one picture, in numpy.

A panel draws a whole layer as ONE image (one pyqtgraph ImageItem), never one item per map, and the
CLI draws the same picture through the same panels; both tile here. Values are scaled to [0, 1];
gaps are NaN, which the image item leaves transparent.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Mosaic:
    """image: (H, W) or (H, W, 3) float32 in [0, 1], NaN in the gaps; tiles laid out row by row."""

    image: np.ndarray
    count: int
    rows: int
    cols: int
    tile_h: int
    tile_w: int
    gap: int

    def tile_at(self, x: float, y: float) -> int | None:
        """The index of the tile under image pixel (x = column, y = row), None over a gap or outside."""
        if x < 0 or y < 0:
            return None
        col, dx = divmod(int(x), self.tile_w + self.gap)
        row, dy = divmod(int(y), self.tile_h + self.gap)
        index = row * self.cols + col
        if dx >= self.tile_w or dy >= self.tile_h or col >= self.cols or index >= self.count:
            return None
        return index

    def origin(self, index: int) -> tuple[int, int]:
        """(x, y) of a tile's top-left pixel."""
        row, col = divmod(index, self.cols)
        return col * (self.tile_w + self.gap), row * (self.tile_h + self.gap)


def scale(maps: np.ndarray, per_tile: bool = True, symmetric: bool = False) -> np.ndarray:
    """maps (K, H, W[, 3]) scaled into [0, 1], each tile on its own range or all on one.

    symmetric keeps zero at 0.5 (weights: negative dark, positive bright). A constant tile becomes
    0.5 rather than a division by zero.
    """
    data = np.asarray(maps, dtype=np.float32)
    axes = tuple(range(1, data.ndim)) if per_tile else None
    if symmetric:
        half = np.nanmax(np.abs(data), axis=axes, keepdims=per_tile)
        return np.where(half > 0, 0.5 + 0.5 * data / np.where(half > 0, half, 1), 0.5).astype(np.float32)
    low = np.nanmin(data, axis=axes, keepdims=per_tile)
    span = np.nanmax(data, axis=axes, keepdims=per_tile) - low
    return np.where(span > 0, (data - low) / np.where(span > 0, span, 1), 0.5).astype(np.float32)


def grid_shape(count: int, tile_h: int = 1, tile_w: int = 1, columns: int | None = None) -> tuple[int, int]:
    """(rows, cols) for count tiles: as square a picture as possible unless columns is given."""
    if columns is None:
        columns = max(1, round(math.sqrt(count * tile_h / tile_w)))
    columns = max(1, min(columns, count))
    return -(-count // columns), columns


def tile(maps: np.ndarray | Sequence[np.ndarray], columns: int | None = None, gap: int = 1,
         per_tile: bool = True, symmetric: bool = False, normalized: bool = False) -> Mosaic:
    """One picture from K equally sized maps (K, H, W) (grey) or (K, H, W, 3) (colour).

    normalized=True takes values already in [0, 1] (images) and only clips them.
    """
    data = np.asarray(maps, dtype=np.float32)
    if data.ndim not in (3, 4) or (data.ndim == 4 and data.shape[-1] != 3) or 0 in data.shape:
        raise ValueError(f"tile needs maps shaped (K, H, W) or (K, H, W, 3), got {data.shape}")
    data = np.clip(data, 0, 1) if normalized else scale(data, per_tile, symmetric)
    count, h, w = data.shape[:3]
    rows, cols = grid_shape(count, h, w, columns)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, *data.shape[3:]), np.nan, np.float32)
    for index in range(count):
        row, col = divmod(index, cols)
        out[row * (h + gap):row * (h + gap) + h, col * (w + gap):col * (w + gap) + w] = data[index]
    return Mosaic(out, count, rows, cols, h, w, gap)


def vector_map(values: np.ndarray) -> np.ndarray:
    """A vector of N units as a near-square (1, rows, cols) map, NaN past the last unit."""
    flat = np.asarray(values, dtype=np.float32).ravel()
    rows, cols = grid_shape(len(flat))
    out = np.full(rows * cols, np.nan, np.float32)
    out[: len(flat)] = flat
    return out.reshape(1, rows, cols)


def side_by_side(images: Sequence[np.ndarray], gap: int = 4) -> tuple[np.ndarray, list[int]]:
    """Pictures next to each other, top-aligned, NaN around them; also each one's left x."""
    height = max(im.shape[0] for im in images)
    extra = images[0].shape[2:]
    width = sum(im.shape[1] for im in images) + gap * (len(images) - 1)
    out = np.full((height, width, *extra), np.nan, np.float32)
    lefts, x = [], 0
    for im in images:
        out[: im.shape[0], x:x + im.shape[1]] = im
        lefts.append(x)
        x += im.shape[1] + gap
    return out, lefts


def colorize(image: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """A [0, 1] grey picture (H, W) through a colour table (L, 3) of 0..255 values, as (H, W, 3)
    in [0, 1]; NaN (gaps) stays NaN, and an (H, W, 3) picture passes through unchanged."""
    if image.ndim == 3:
        return image
    table = np.asarray(lut, np.float32)[:, :3] / 255.0
    index = np.clip(np.nan_to_num(image, nan=0.0) * (len(table) - 1), 0, len(table) - 1).astype(np.intp)
    out = table[index]
    out[np.isnan(image)] = np.nan
    return out
