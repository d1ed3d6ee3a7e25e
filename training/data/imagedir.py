"""A plant's own inspection images: ``DIR/<class name>/*.png|jpg|bmp``, one folder per class.

Images are converted to 28×28 greyscale in [0, 1]. Class names are the folder names, sorted.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["DataDirError", "load_image_dir", "load_image", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
MIN_IMAGES_PER_CLASS = 5  # fewer cannot be split into train, validation and test


class DataDirError(ValueError):
    """The data dir cannot be trained on; the message says what to fix."""


def load_image(path: Path, size: int = 28) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            grey = img.convert("L").resize((size, size), Image.BILINEAR)
    except (UnidentifiedImageError, OSError) as exc:
        raise DataDirError(f"{path}: not a readable image ({exc})") from exc
    return (np.asarray(grey, np.float32) / 255.0)[..., None]


def load_image_dir(root: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(images [n,28,28,1], labels [n], class names) from ``root``; raises DataDirError."""
    root = Path(root)
    if not root.is_dir():
        raise DataDirError(f"--data-dir {root} is not a directory")
    classes = tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")))
    if len(classes) < 2:
        raise DataDirError(f"--data-dir {root} needs one folder per class, at least 2; found {list(classes)}")
    images, labels = [], []
    for index, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if len(files) < MIN_IMAGES_PER_CLASS:
            raise DataDirError(
                f"--data-dir {root}/{name} has {len(files)} images; each class needs at least {MIN_IMAGES_PER_CLASS}"
            )
        images.extend(load_image(f) for f in files)
        labels.extend([index] * len(files))
    return np.stack(images), np.asarray(labels, np.int64), classes
