"""Folders of JPEG/PNG photos: the evaluation transform, labels from subfolders, and --data FOLDER."""

import numpy as np
import pytest
from PIL import Image

from deepkit.datasets import folder, resolver
from deepkit.errors import DataError


def test_the_evaluation_transform_resizes_the_short_side_and_crops_the_centre(tmp_path):
    # a 512x256 image whose left and right quarters are black: resized to 512x256 -> 256 short side, the
    # centre 224x224 crop sees only the white middle
    array = np.zeros((256, 512, 3), np.uint8)
    array[:, 128:384] = 255
    Image.fromarray(array).save(tmp_path / "wide.png")
    out = folder.read_image(str(tmp_path / "wide.png"))
    assert out.shape == (224, 224, 3) and out.dtype == np.uint8 and out.min() == 255
    Image.fromarray(array[:, :, 0]).convert("L").save(tmp_path / "grey.jpg")
    assert folder.read_image(str(tmp_path / "grey.jpg"), size=32).shape == (32, 32, 3)  # grayscale -> RGB
    assert folder.read_image(str(tmp_path / "grey.jpg"), size=32, channels=1).shape == (32, 32, 1)


def test_flat_folder_and_class_subfolders_through_the_resolver(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for i in range(3):
        Image.new("RGB", (300, 200), (i * 80, 0, 0)).save(flat / f"{i}.jpg")
    x, y, names = folder.read_image_folder(str(flat), size=64)
    assert x.shape == (3, 64, 64, 3) and y is None and names is None
    labelled = tmp_path / "labelled"
    for cls in ("cat", "dog"):
        (labelled / cls).mkdir(parents=True)
        Image.new("RGB", (64, 64), (0, 200, 0)).save(labelled / cls / "p.png")
    data = resolver.resolve(str(labelled), purpose="evaluate")
    assert data.x_test.shape == (2, 224, 224, 3) and data.y_test.tolist() == [0, 1] and data.num_classes == 2
    flat_data = resolver.resolve(str(flat), purpose="evaluate")
    assert flat_data.x_test.shape == (3, 224, 224, 3) and flat_data.y_test is None


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="not a folder of JPEG/PNG images"):
        folder.read_image_folder(str(tmp_path))
    (tmp_path / "bad.png").write_bytes(b"no")
    with pytest.raises(DataError, match=r"bad\.png: not a readable JPEG/PNG image"):
        folder.read_image_folder(str(tmp_path))
