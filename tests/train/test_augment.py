"""deepkit.train.Augment: pad-crop and flip checked against numpy, randomness, errors."""

import numpy as np
import pytest

import keras

from deepkit.train import ArrayStream, Augment


def _np_crop(x, p, dy, dx, mode="constant", h_axis=1, w_axis=2):
    pad = [(0, 0)] * x.ndim
    pad[h_axis] = (p, p)
    pad[w_axis] = (p, p)
    xp = np.pad(x, pad, mode=mode)
    out = np.empty_like(x)
    h, w = x.shape[h_axis], x.shape[w_axis]
    for i in range(len(x)):
        img = xp[i]
        img = np.take(img, range(dy[i], dy[i] + h), axis=h_axis - 1)
        out[i] = np.take(img, range(dx[i], dx[i] + w), axis=w_axis - 1)
    return out


@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric"])
def test_pad_crop_matches_numpy(mode):
    rng = np.random.default_rng(0)
    x = rng.random((7, 6, 5, 3)).astype("float32")
    p = 2
    dy = rng.integers(0, 2 * p + 1, 7)
    dx = rng.integers(0, 2 * p + 1, 7)
    aug = Augment(pad_crop=p, pad_mode=mode)
    got = keras.ops.convert_to_numpy(aug.apply(x, dy=dy, dx=dx))
    np.testing.assert_array_equal(got, _np_crop(x, p, dy, dx, mode))


def test_pad_crop_no_shift_is_identity_and_shift_moves_pixels():
    x = np.arange(2 * 5 * 5, dtype="float32").reshape(2, 5, 5, 1)
    aug = Augment(pad_crop=1)
    same = keras.ops.convert_to_numpy(aug.apply(x, dy=[1, 1], dx=[1, 1]))
    np.testing.assert_array_equal(same, x)
    moved = keras.ops.convert_to_numpy(aug.apply(x, dy=[0, 2], dx=[1, 1]))
    # offset 0: content moves down one row, a zero row enters at the top
    np.testing.assert_array_equal(moved[0, 1:], x[0, :-1])
    np.testing.assert_array_equal(moved[0, 0], 0)
    np.testing.assert_array_equal(moved[1, :-1], x[1, 1:])


def test_flip_matches_numpy_and_channels_first():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 255, (6, 4, 5, 2)).astype("uint8")
    flip = np.array([True, False, True, True, False, False])
    got = keras.ops.convert_to_numpy(Augment(flip=True).apply(x, flip=flip))
    ref = np.where(flip[:, None, None, None], x[:, :, ::-1, :], x)
    np.testing.assert_array_equal(got, ref)
    assert got.dtype == np.uint8
    xc = np.transpose(x, (0, 3, 1, 2))  # NCHW
    aug = Augment(flip=True, pad_crop=1, data_format="channels_first")
    dy, dx = rng.integers(0, 3, 6), rng.integers(0, 3, 6)
    got = keras.ops.convert_to_numpy(aug.apply(xc, dy=dy, dx=dx, flip=flip))
    ref = _np_crop(xc, 1, dy, dx, h_axis=2, w_axis=3)
    ref = np.where(flip[:, None, None, None], ref[..., ::-1], ref)
    np.testing.assert_array_equal(got, ref)


def test_random_call_produces_valid_crops_and_about_half_flips():
    rng = np.random.default_rng(2)
    x = rng.random((200, 6, 6, 1)).astype("float32")
    aug = Augment(flip=True, pad_crop=2, seed=3)
    out = keras.ops.convert_to_numpy(aug(x))
    flips, offsets = 0, set()
    for i in range(len(x)):
        found = None
        for f in (False, True):
            for dy in range(5):
                for dx in range(5):
                    ref = _np_crop(x[i:i + 1], 2, [dy], [dx])[0]
                    if f:
                        ref = ref[:, ::-1]
                    if np.array_equal(ref, out[i]):
                        found = (f, dy, dx)
        assert found is not None, f"image {i} is not a flip/crop of its input"
        flips += found[0]
        offsets.add(found[1:])
    assert 60 <= flips <= 140
    assert len(offsets) >= 20  # nearly all 25 offsets occur


def test_seeded_augment_is_reproducible_and_advances():
    x = np.random.default_rng(0).random((16, 8, 8, 3)).astype("float32")
    a1, a2 = Augment(flip=True, pad_crop=2, seed=5), Augment(flip=True, pad_crop=2, seed=5)
    o1, o2 = keras.ops.convert_to_numpy(a1(x)), keras.ops.convert_to_numpy(a2(x))
    np.testing.assert_array_equal(o1, o2)
    assert not np.array_equal(keras.ops.convert_to_numpy(a1(x)), o1)  # the stream moves on


def test_inactive_augment_is_identity():
    x = np.ones((2, 3, 3, 1), "float32")
    aug = Augment()
    assert not aug.active
    assert aug(x) is x


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pad_crop": -1}, "pad_crop=-1"),
        ({"pad_crop": 2.5}, "pad_crop=2.5"),
        ({"flip": "yes"}, "flip='yes'"),
        ({"pad_mode": "wrap"}, "pad_mode='wrap'"),
        ({"data_format": "nhwc"}, "data_format='nhwc'"),
    ],
)
def test_bad_arguments_are_quoted(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Augment(**kwargs)


def test_bad_rank_and_too_small_images():
    with pytest.raises(ValueError, match="rank 2"):
        Augment(flip=True)(np.zeros((3, 4), "float32"))
    with pytest.raises(ValueError, match="larger than pad_crop=4"):
        Augment(pad_crop=4, pad_mode="reflect")(np.zeros((2, 3, 3, 1), "float32"))


def test_numpy_version_gives_valid_crops():
    x = np.random.default_rng(0).integers(0, 255, (30, 5, 5, 1)).astype("uint8")
    out = Augment(flip=True, pad_crop=1).numpy(x, np.random.default_rng(1))
    assert out.dtype == np.uint8 and out.shape == x.shape
    for i in range(len(x)):
        cands = [_np_crop(x[i:i + 1], 1, [dy], [dx])[0] for dy in range(3) for dx in range(3)]
        cands += [c[:, ::-1] for c in cands]
        assert any(np.array_equal(c, out[i]) for c in cands)


def test_array_stream_batches_and_epochs():
    x = np.arange(10, dtype="float32")[:, None]
    y = np.arange(10)
    ds = ArrayStream(x, y, batch_size=4, shuffle=True, seed=0)
    assert len(ds) == 3
    seen = np.concatenate([ds[i][1] for i in range(len(ds))])
    assert sorted(seen.tolist()) == list(range(10))
    for i in range(len(ds)):
        bx, by = ds[i]
        np.testing.assert_array_equal(bx[:, 0], by)  # x and y stay aligned
    first = [ds[i][1].tolist() for i in range(3)]
    ds.on_epoch_end()
    assert [ds[i][1].tolist() for i in range(3)] != first
