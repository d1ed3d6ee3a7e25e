"""Input files for plantserve predict, read against a signature."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from serving.client import InvalidInput
from serving.client.files import read_csv, read_images, read_json
from serving.client.results import Signature, TensorSpec

FUEL = Signature("serving_default", "", {n: TensorSpec("DT_FLOAT", (-1,)) for n in ("cylinders", "weight")}, {})
DEFECT = Signature("serving_default", "", {"image": TensorSpec("DT_FLOAT", (-1, 28, 28, 1))}, {})


def test_csv_keeps_extra_columns_as_context(tmp_path: Path):
    path = tmp_path / "cars.csv"
    path.write_text("car,cylinders,weight,mpg\nvw rabbit,4,1985,36.4\nford torino,8,3449,17\n")
    batch = read_csv(path, FUEL)
    assert batch.inputs["weight"].dtype == np.float32 and batch.inputs["cylinders"].tolist() == [4.0, 8.0]
    assert batch.context == {"car": ["vw rabbit", "ford torino"], "mpg": ["36.4", "17"]}


def test_csv_missing_a_column_names_it(tmp_path: Path):
    path = tmp_path / "cars.csv"
    path.write_text("cylinders\n4\n")
    with pytest.raises(InvalidInput, match="weight"):
        read_csv(path, FUEL)


def test_json_columns_and_rows(tmp_path: Path):
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"inputs": {"cylinders": [4], "weight": [2000]}}))
    assert read_json(path, FUEL).inputs["weight"].tolist() == [2000.0]
    path.write_text(json.dumps([{"cylinders": 4, "weight": 2000, "id": "a"}]))
    batch = read_json(path, FUEL)
    assert batch.inputs["cylinders"].tolist() == [4.0] and batch.context == {"id": ["a"]}
    path.write_text(json.dumps({"horsepower": [1]}))
    with pytest.raises(InvalidInput, match="horsepower"):
        read_json(path, FUEL)


def test_images_are_greyscale_resized_and_scaled(tmp_path: Path):
    from PIL import Image

    Image.new("RGB", (56, 40), (255, 255, 255)).save(tmp_path / "white.png")
    Image.new("L", (28, 28), 0).save(tmp_path / "black.png")
    batch = read_images([tmp_path / "white.png", tmp_path / "black.png"], DEFECT)
    image = batch.inputs["image"]
    assert image.shape == (2, 28, 28, 1) and image.dtype == np.float32
    assert image[0].min() == pytest.approx(1.0) and image[1].max() == 0.0
    assert batch.context == {"image": ["white.png", "black.png"]}
