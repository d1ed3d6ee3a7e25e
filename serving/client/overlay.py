"""An image with its attribution map on top, as a PNG a person can read (needs Pillow).

Red marks pixels that raise the explained class's probability, blue ones that lower it; the
stronger the colour, the larger the share. The colour scale is per image: the 99th percentile
of |attribution| is full strength. A title bar above the image names the class, its probability
and the input's trust.

>>> import numpy as np
>>> image = np.zeros((28, 28, 1), np.float32); attr = np.zeros((28, 28, 1), np.float32); attr[5, 5] = 1
>>> png = render(image, attr, "scratch p=0.97")
>>> png.size, png.getpixel((5 * SCALE + 1, TITLE_HEIGHT + 5 * SCALE + 1))[:3]
((280, 316), (255, 0, 0))
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from serving.client.errors import InvalidInput

__all__ = ["render", "write_png", "SCALE", "TITLE_HEIGHT"]

#: Each input pixel becomes SCALE x SCALE screen pixels.
SCALE = 10
TITLE_HEIGHT = 36
#: At full strength the map hides the image underneath this much.
MAX_OPACITY = 1.0


def _pil() -> Any:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as exc:
        raise InvalidInput("writing overlay PNGs needs Pillow: pip install pillow") from exc
    return Image, ImageDraw, ImageFont


def render(image: np.ndarray, attributions: np.ndarray, title: str) -> Any:
    """A PIL image: ``image`` [h, w, c] in [0, 1] in grey, the map [h, w, 1] over it, ``title`` above."""
    Image, ImageDraw, ImageFont = _pil()
    grey = np.asarray(image, np.float32).mean(axis=-1) if np.ndim(image) == 3 else np.asarray(image, np.float32)
    attr = np.asarray(attributions, np.float32).reshape(grey.shape)
    scale = float(np.quantile(np.abs(attr), 0.99)) or float(np.abs(attr).max()) or 1.0
    strength = np.clip(np.abs(attr) / scale, 0, 1)[..., None] * MAX_OPACITY
    base = np.repeat(np.clip(grey, 0, 1)[..., None], 3, axis=-1)
    colour = np.where(attr[..., None] >= 0, np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.3, 1.0]))
    mixed = (base * (1 - strength) + colour * strength) * 255
    h, w = grey.shape
    picture = Image.fromarray(mixed.round().astype(np.uint8), "RGB").resize((w * SCALE, h * SCALE), Image.NEAREST)
    canvas = Image.new("RGB", (w * SCALE, h * SCALE + TITLE_HEIGHT), (255, 255, 255))
    canvas.paste(picture, (0, TITLE_HEIGHT))
    draw = ImageDraw.Draw(canvas)
    try:
        font = ImageFont.load_default(size=14)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        font = ImageFont.load_default()
    lines = title.split("\n")[:2]
    for i, line in enumerate(lines):
        draw.text((4, 2 + i * 16), line, fill=(0, 0, 0), font=font)
    return canvas


def write_png(path: Path, image: np.ndarray, attributions: np.ndarray, title: str) -> Path:
    """Render and write ``path`` atomically (a temporary file renamed into place)."""
    path = Path(path)
    picture = render(image, attributions, title)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            picture.save(fh, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
