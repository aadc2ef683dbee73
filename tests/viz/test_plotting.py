"""deepkit.viz.plotting: image grids, heat-map overlays, PNG encoding and normalization."""

import numpy as np
import pytest
from PIL import Image

from deepkit.viz import plotting


def test_make_grid_layout_and_normalization():
    imgs = np.arange(2 * 2 * 3, dtype="float32").reshape(3, 2, 2)
    grid = plotting.make_grid(imgs, ncols=2, padding=1, pad_value=-1)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1, 1)
    np.testing.assert_array_equal(grid[1:3, 4:6, 0], imgs[1])
    assert np.all(grid[4:6, 4:6, 0] == -1)  # empty cell
    each = plotting.make_grid(imgs, normalize="each", padding=0, ncols=3)
    np.testing.assert_allclose(each[..., 0], np.tile([[0, 1 / 3], [2 / 3, 1]], (1, 3)), rtol=1e-6)
    with pytest.raises(ValueError, match=r"Received: shape=\(3, 2\)"):
        plotting.make_grid(np.zeros((3, 2)))


def test_overlay_and_png_roundtrip(tmp_path):
    img = np.zeros((16, 16, 3), "float32")
    heat = np.zeros((4, 4), "float32")
    heat[0, 0] = 1.0
    out = plotting.overlay_heatmap(img, heat, alpha=1.0, cmap="gray")
    assert out.shape == (16, 16, 3)
    assert out[0, 0].mean() > out[15, 15].mean()
    path = plotting.save_png(out, tmp_path / "o.png")
    back = np.asarray(Image.open(path)) / 255.0
    np.testing.assert_allclose(back, out, atol=1 / 255)
    uri = plotting.png_data_uri(out)
    import base64

    assert base64.b64decode(uri.split(",", 1)[1]) == plotting.to_png_bytes(out)
    sym = plotting.normalize_image(np.array([-4.0, 0.0, 2.0]), mode="symmetric")
    np.testing.assert_allclose(sym, [0.0, 0.5, 0.75])
    pct = plotting.normalize_image(np.r_[np.linspace(0, 1, 999), 1000.0], mode="percentile",
                                   percentile=99)
    assert pct[-1] == 1.0 and 0.9 < pct[-2] <= 1.0
