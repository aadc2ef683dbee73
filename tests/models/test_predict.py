"""deepkit predict: top classes of image files and folders, the transform stated, unreadable files exit 2."""

import re

import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import save_file

from deepkit import cli, models
from deepkit.models import torch_weights


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(root / "a.png")
    Image.fromarray(rng.integers(0, 255, (50, 30, 3), dtype=np.uint8)).save(root / "b.jpg", quality=90)
    Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8), mode="L").save(root / "grey.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    (root / "notes.txt").write_text("not an image")
    folder = root / "folder"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return root


def lines_of(capsys):
    return capsys.readouterr().out.splitlines()


def test_png_jpeg_grayscale_and_folder(photos, capsys):
    paths = [str(photos / "a.png"), str(photos / "b.jpg"), str(photos / "grey.png"), str(photos / "folder")]
    assert cli.main(["predict", "lenet5", "--weights", "mnist", "--top", "3", *paths]) == 0
    out = lines_of(capsys)
    assert out[0] == "transform: resize the shorter side to 32 (bilinear), centre crop 28x28, grayscale 0-255"
    files = [line for line in out[1:] if not line.startswith("  ")]
    assert files == [*paths[:3], str(photos / "folder" / "0.png"), str(photos / "folder" / "1.png")]
    ranks = [line for line in out if line.startswith("  ")]
    assert len(ranks) == 5 * 3 and all(re.match(r"  [123]\.  [01]\.\d{4}  class \d \(\d\)$", r) for r in ranks)


def test_unreadable_or_missing_file_exits_2(photos, capsys):
    assert cli.main(["predict", "lenet5", "--weights", "mnist", str(photos / "broken.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deepkit predict: error: ") and "broken.png: not a readable JPEG/PNG image" in err
    assert err.count("\n") == 1
    assert cli.main(["predict", "lenet5", "--weights", "mnist", str(photos / "missing.png")]) == 2
    assert "missing.png: no such file or folder" in capsys.readouterr().err
    assert cli.main(["predict", "lenet5", "--weights", "mnist", str(photos / "notes.txt")]) == 2
    assert "notes.txt: not a readable JPEG/PNG image" in capsys.readouterr().err


def test_resnet18_state_dict_prints_five_named_classes(photos, tmp_path, capsys):
    model = models.create("resnet18")
    state = torch_weights.to_state_dict(model, "resnet")
    path = str(tmp_path / "resnet18.safetensors")
    save_file(state, path)
    assert cli.main(["predict", "resnet18", "--weights", path, str(photos / "a.png")]) == 0
    out = lines_of(capsys)
    assert out[0] == "transform: resize the shorter side to 256 (bilinear), centre crop 224x224, RGB 0-255"
    assert out[1] == str(photos / "a.png") and len(out) == 7
    names = models.imagenet_classes()
    for line in out[2:]:
        match = re.match(r"  [1-5]\.  [01]\.\d{4}  (.+) \((\d+)\)$", line)
        assert match and names[int(match[2])] == match[1], out
