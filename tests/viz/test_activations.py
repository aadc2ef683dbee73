"""Feature maps, receptive fields (checked by brute-force perturbation) and top-k patches."""

import keras
import numpy as np
import pytest

from deepkit.viz import activations as act
from tests.viz.digits import digits, trained_digits_cnn

L = keras.layers


def _perturbation_fields(model, layer_name, size, delta=1e4, seed=0):
    """For every unit of ``layer_name``: the set of input pixels that change it (brute force).

    Returns a boolean array ``(h, w, H, W)``: ``[i, j, y, x]`` is True when adding ``delta``
    to input pixel ``(y, x)`` changes unit ``(i, j)`` (any channel).
    """
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(1, size, size, 1)).astype("float32")
    fm = keras.Model(model.inputs, model.get_layer(layer_name).output)
    ref = np.asarray(fm.predict(base, verbose=0), np.float64)
    changed = False
    for sign in (1.0, -1.0):  # both signs, so that a max-pool always lets one of them through
        batch = np.repeat(base, size * size, axis=0)
        batch.reshape(size * size, size * size)[np.arange(size * size), np.arange(size * size)] += (
            sign * delta)
        out = np.asarray(fm.predict(batch, verbose=0, batch_size=512), np.float64)
        diff = np.abs(out - ref).max(axis=-1)  # (H*W, h, w)
        changed = changed | (diff > 1e-5 * (np.abs(ref).max() + 1.0))
    h, w = changed.shape[1:]
    return np.transpose(changed.reshape(size, size, h, w), (2, 3, 0, 1))


def _analytic_fields(rf, h, w, size):
    boxes = np.zeros((h, w, size, size), bool)
    for i in range(h):
        for j in range(w):
            y0, x0, y1, x1 = rf.box((i, j), image_shape=(size, size))
            boxes[i, j, y0:y1, x0:x1] = True
    return boxes


def _linear_net():
    """Linear (no ReLU) net with every kind of spatial op, so influence == receptive field."""
    init = keras.initializers.RandomNormal(stddev=1.0, seed=3)
    x = keras.Input((32, 32, 1))
    a = L.Conv2D(2, 3, padding="same", kernel_initializer=init, name="c_same")(x)
    b = L.Conv2D(2, 3, strides=2, padding="same", kernel_initializer=init, name="c_s2same")(a)
    c = L.AveragePooling2D(2, strides=1, name="avg")(b)  # 16 -> 15
    d = L.Conv2D(2, 3, dilation_rate=2, padding="same", kernel_initializer=init, name="c_dil")(c)
    e = L.ZeroPadding2D(((1, 0), (2, 1)), name="zpad")(d)
    f = L.Conv2D(2, (2, 3), padding="valid", kernel_initializer=init, name="c_valid")(e)
    g = L.Cropping2D(((1, 0), (0, 1)), name="crop")(f)
    # residual-style merge with a strided 1x1 shortcut from an earlier tensor
    s = L.Conv2D(2, 1, strides=2, kernel_initializer=init, name="shortcut")(a)  # 16x16
    t = L.Conv2D(2, 3, padding="same", kernel_initializer=init, name="branch")(b)  # 16x16
    merged = L.Add(name="merge")([s, t])
    return keras.Model(x, [g, merged], name="linear_net")


def _check_fields(rf, brute, size):
    """Brute-force influence vs. the analytic field.

    Every influencing pixel lies in the unit's box; for units whose field lies inside the
    image the influence spans exactly the box. (Near borders the theoretical field, as
    defined by Araujo et al. 2019, also counts pixels reached only through zero-padded
    positions of inner layers, so there it may be larger than the real influence.)
    """
    h, w = brute.shape[:2]
    analytic = _analytic_fields(rf, h, w, size)
    assert brute.any()
    assert not np.any(brute & ~analytic), "a pixel outside the receptive field changed the unit"
    interior = 0
    for i in range(h):
        for j in range(w):
            y0, x0, y1, x1 = rf.box((i, j))
            if y0 >= 0 and x0 >= 0 and y1 <= size and x1 <= size:
                interior += 1
                ys, xs = np.nonzero(brute[i, j])
                assert (ys.min(), xs.min(), ys.max() + 1, xs.max() + 1) == (y0, x0, y1, x1)
    assert interior > 0
    return analytic


_SLOW = pytest.mark.slow  # the default run keeps one layer of each kind of difficulty


@pytest.mark.parametrize(
    "layer", ["c_s2same", "crop", "merge",
              pytest.param("c_same", marks=_SLOW), pytest.param("avg", marks=_SLOW),
              pytest.param("c_dil", marks=_SLOW), pytest.param("zpad", marks=_SLOW),
              pytest.param("c_valid", marks=_SLOW)]
)
def test_receptive_field_matches_brute_force(layer):
    model = _linear_net()
    rf = act.receptive_field(model, layer)
    brute = _perturbation_fields(model, layer, 32)
    analytic = _check_fields(rf, brute, 32)
    if layer in ("c_same", "c_s2same", "avg", "merge"):  # no dilation/padding subtleties
        np.testing.assert_array_equal(analytic, brute)


def test_receptive_field_maxpool_same_padding_and_nested_model():
    inner = keras.Sequential(
        [keras.Input((8, 8, 2)), L.Conv2D(2, 3, padding="valid", name="in_conv"),
         L.MaxPooling2D(3, strides=2, padding="same", name="in_pool")], name="inner")
    x = keras.Input((16, 16, 1))
    y = L.Conv2D(2, 3, strides=2, padding="same", name="stem")(x)
    y = inner(y)
    model = keras.Model(x, L.Flatten(name="flat")(y))
    rf = act.receptive_field(model, "inner/in_pool")
    # stem: start 0 (16 even, s2, k3 -> pad_before 0), jump 2, size 3;
    # in_conv (valid): size 3+2*2=7, jump 2; in_pool on 6x6, k3 s2 same -> pad_before 0:
    # size 7+2*2=11, jump 4.
    assert rf == act.ReceptiveField(size=(11, 11), stride=(4, 4), start=(0, 0))
    brute = _perturbation_fields(model, "inner", 16)
    np.testing.assert_array_equal(_check_fields(rf, brute, 16), brute)
    assert act.receptive_field(model, "flat").is_global


def _vgg16_topology():
    """VGG-16's convolutional part with one filter per layer (fields don't depend on width)."""
    layers = [keras.Input((224, 224, 3))]
    for block, convs in enumerate([2, 2, 3, 3, 3], start=1):
        layers += [L.Conv2D(1, 3, padding="same", name=f"block{block}_conv{i}")
                   for i in range(1, convs + 1)]
        layers.append(L.MaxPooling2D(2, name=f"block{block}_pool"))
    return keras.Sequential(layers)


@pytest.mark.parametrize("which", ["topology", pytest.param("keras_app", marks=pytest.mark.slow)])
def test_receptive_field_vgg16_published_values(which):
    # Araujo et al. (2019), "Computing receptive fields of convolutional neural networks":
    # VGG-16 conv5_3 sees 196 pixels with a 16-pixel stride; pool5 212 with 32.
    if which == "keras_app":
        vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(224, 224, 3))
    else:
        vgg = _vgg16_topology()
    rf = act.receptive_field(vgg, "block5_conv3")
    assert rf.size == (196, 196) and rf.stride == (16, 16)
    assert act.receptive_field(vgg, "block5_pool").size == (212, 212)
    assert act.receptive_field(vgg, "block5_pool").stride == (32, 32)


def test_receptive_field_rejects_upsampling_with_clear_error():
    model = keras.Sequential([keras.Input((8, 8, 1)), L.UpSampling2D(name="up"),
                              L.Conv2D(1, 3, name="c")])
    with pytest.raises(ValueError, match="'up'.*UpSampling2D"):
        act.receptive_field(model, "c")


def test_feature_maps_match_keras_submodel():
    model, _, x, _ = trained_digits_cnn()
    maps = act.feature_maps(model, x[:70], batch_size=32)
    assert list(maps) == ["conv1", "pool1", "conv2"]
    ref = keras.Model(model.inputs, model.get_layer("conv2").output).predict(x[:70], verbose=0)
    np.testing.assert_allclose(maps["conv2"], ref, rtol=1e-5, atol=1e-5)
    dense = act.feature_maps(model, x[:5], layers=["logits"])
    assert dense["logits"].shape == (5, 10)


def _reference_topk(maps, k):
    """Numpy: per image the max over positions per channel, then the k best images."""
    n, h, w, c = maps.shape
    flat = maps.reshape(n, h * w, c)
    per_img = flat.max(axis=1)  # (n, c)
    pos = flat.argmax(axis=1)
    order = np.argsort(-per_img, axis=0, kind="stable")[:k].T  # (c, k)
    return per_img, pos, order


def test_top_k_patches_match_numpy_reference_and_stream_equals_array():
    model, _, x, _ = trained_digits_cnn()
    data = x[:300]
    top = act.top_k_patches(model, "conv2", data, k=5, batch_size=64)
    maps = act.feature_maps(model, data, layers=["conv2"])["conv2"]
    per_img, pos, order = _reference_topk(maps, 5)
    c_idx = np.arange(maps.shape[-1])[:, None]
    np.testing.assert_allclose(top.values, per_img[order, c_idx], rtol=1e-5, atol=1e-6)
    # values may tie (ReLU zeros are not among the top here); compare indices where distinct
    np.testing.assert_array_equal(top.indices, order)
    assert top.num_images == 300
    rf = act.receptive_field(model, "conv2")
    assert rf == act.ReceptiveField(size=(8, 8), stride=(2, 2), start=(-3, -3))
    for c in range(16):  # field as large as the 8x8 image: the patch is the whole image
        for t in range(5):
            p = pos[top.indices[c, t], c]
            assert tuple(top.positions[c, t]) == (p // 4, p % 4)
            np.testing.assert_array_equal(top.patches[c, t], data[top.indices[c, t]])
    # conv1 has 3x3 fields: patches are crops, zero where the field hangs over the border
    top1 = act.top_k_patches(model, "conv1", data, k=4, batch_size=128)
    maps1 = act.feature_maps(model, data, layers=["conv1"])["conv1"]
    _, pos1, order1 = _reference_topk(maps1, 4)
    np.testing.assert_array_equal(top1.indices, order1)
    rf1 = act.receptive_field(model, "conv1")
    for c in range(8):
        for t in range(4):
            i = top1.indices[c, t]
            p = pos1[i, c]
            assert tuple(top1.positions[c, t]) == (p // 8, p % 8)
            y0, x0, y1, x1 = top1.boxes[c, t]
            uy0, ux0, uy1, ux1 = rf1.box(tuple(top1.positions[c, t]))
            assert (y0, x0, y1, x1) == (max(uy0, 0), max(ux0, 0), min(uy1, 8), min(ux1, 8))
            np.testing.assert_array_equal(
                top1.patches[c, t, y0 - uy0 : y1 - uy0, x0 - ux0 : x1 - ux0], data[i, y0:y1, x0:x1])
            outside = np.ones((3, 3), bool)
            outside[y0 - uy0 : y1 - uy0, x0 - ux0 : x1 - ux0] = False
            assert np.all(top1.patches[c, t][outside] == 0)
    # streaming an iterable of (x, y) batches of another size gives the same answer
    batches = ((data[i : i + 37], np.zeros(len(data[i : i + 37]))) for i in range(0, 300, 37))
    streamed = act.top_k_patches(model, "conv2", batches, k=5, channels=[0, 7, 15])
    np.testing.assert_array_equal(streamed.indices, top.indices[[0, 7, 15]])
    np.testing.assert_allclose(streamed.patches, top.patches[[0, 7, 15]])


def test_top_k_patches_dense_layer_gives_whole_images_and_small_dataset_pads():
    model, _, x, _ = trained_digits_cnn()
    top = act.top_k_patches(model, "logits", x[:4], k=6, channels=[3])
    assert top.receptive_field.is_global
    assert top.patches.shape == (1, 6, 8, 8, 1)
    assert list(top.indices[0, 4:]) == [-1, -1]
    assert np.all(np.isneginf(top.values[0, 4:]))
    logits = model.predict(x[:4], verbose=0)[:, 3]
    np.testing.assert_array_equal(top.indices[0, :4], np.argsort(-logits, kind="stable"))
    np.testing.assert_array_equal(top.patches[0, 0], x[top.indices[0, 0]])


def test_top_k_patches_errors_name_the_problem():
    model, _, x, _ = trained_digits_cnn()
    with pytest.raises(ValueError, match=r"16 channels \(0..15\).*channels=\[16\]"):
        act.top_k_patches(model, "conv2", x[:10], channels=[16])
    with pytest.raises(ValueError, match="k=0"):
        act.top_k_patches(model, "conv2", x[:10], k=0)
    with pytest.raises(ValueError, match="empty"):
        act.top_k_patches(model, "conv2", x[:0])
    with pytest.raises(ValueError, match="Did you mean 'conv2'"):
        act.top_k_patches(model, "conv_2", x[:10])


def test_top_patches_of_trained_channel_beat_random_images():
    """The chosen patches really excite the channel: their activation is the dataset maximum."""
    model, _, x, _ = trained_digits_cnn()
    top = act.top_k_patches(model, "conv1", x, k=9)
    maps = act.feature_maps(model, x, layers=["conv1"])["conv1"]
    best = maps.max(axis=(0, 1, 2))
    np.testing.assert_allclose(top.values[:, 0], best, rtol=1e-5)
    assert np.all(top.values[:, -1] >= np.percentile(maps.max(axis=(1, 2)), 99, axis=0) - 1e-6)


def test_plots_return_figures_and_save_png(tmp_path):
    model, _, x, _ = trained_digits_cnn()
    maps = act.feature_maps(model, x[:3], layers=["conv1", "logits"])
    fig = act.plot_feature_maps(maps["conv1"], index=2, path=tmp_path / "fm.png")
    assert (tmp_path / "fm.png").stat().st_size > 1000
    assert fig.deepkit_image.shape[-1] == 3
    act.plot_feature_maps(maps["logits"], index=0)
    top = act.top_k_patches(model, "conv2", x[:100], k=4)
    fig = act.plot_top_patches(top, channels=[2, 5], path=tmp_path / "top.png")
    assert (tmp_path / "top.png").exists()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["ch 2", "ch 5"]
    with pytest.raises(IndexError, match="index 5 out of range for 3 inputs"):
        act.plot_feature_maps(maps["conv1"], index=5)


class _HandPool(L.Layer):
    """A pooling the receptive-field code does not know: 3x3 windows, stride 2, via keras.ops."""

    def call(self, x):
        return keras.ops.average_pool(x, pool_size=3, strides=2, padding="valid")


def test_receptive_field_of_unknown_layers_is_measured():
    from deepkit.layers.shortcut import ChannelPadShortcut

    init = keras.initializers.RandomNormal(stddev=1.0, seed=5)
    x = keras.Input((32, 32, 1))
    a = L.Conv2D(2, 3, padding="same", kernel_initializer=init, name="c1")(x)
    b = ChannelPadShortcut(filters=4, strides=2, name="short")(a)  # x[:, ::2, ::2], channel pad
    c = _HandPool(name="hand")(b)
    d = L.Conv2D(2, 3, padding="same", kernel_initializer=init, name="c2")(c)
    model = keras.Model(x, d)
    assert act.receptive_field(model, "short") == act.ReceptiveField((3, 3), (2, 2), (-1, -1))
    rf = act.receptive_field(model, "c2")
    # c1: 3, jump 1 -> subsample: jump 2 -> 3x3/2 pool: 3+2*2=7, jump 4 -> c2: 7+2*4=15
    assert rf == act.ReceptiveField(size=(15, 15), stride=(4, 4), start=(-5, -5))
    brute = _perturbation_fields(model, "c2", 32)
    _check_fields(rf, brute, 32)


# --------------------------------------------------------------- feature maps of a 2-input model, and their plot
def _two_input_model():
    keras.utils.set_random_seed(0)
    a, b = keras.Input((6, 6, 1), name="left"), keras.Input((6, 6, 1), name="right")
    c = L.Conv2D(2, 3, name="c")(L.Concatenate()([a, b]))
    return keras.Model([a, b], L.Dense(2)(L.Flatten()(c)))


def test_feature_maps_take_every_form_of_two_inputs():
    model = _two_input_model()
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(5, 6, 6, 1)).astype("float32"), rng.normal(size=(5, 6, 6, 1)).astype("float32")
    expected = keras.ops.convert_to_numpy(keras.Model(model.inputs, model.get_layer("c").output)([xa, xb]))
    forms = {"list": [xa, xb], "tuple": (xa, xb), "dict": {"right": xb, "left": xa},
             "(x, y)": ([xa, xb], np.zeros(5)), "batches": [([xa[:3], xb[:3]], None), ([xa[3:], xb[3:]], None)]}
    for form, data in forms.items():
        maps = act.feature_maps(model, data, layers=["c"], batch_size=2)
        np.testing.assert_allclose(maps["c"], expected, rtol=1e-5, atol=1e-6, err_msg=form)


def test_feature_maps_of_two_inputs_say_what_they_need():
    model = _two_input_model()
    x = np.zeros((2, 6, 6, 1), "float32")
    with pytest.raises(ValueError, match=r"model has 2 inputs; data must be a list or tuple of 2 arrays .*"
                                         r"\['left', 'right'\].*Received: ndarray of shape \(2, 6, 6, 1\)"):
        act.feature_maps(model, x, layers=["c"])
    with pytest.raises(ValueError, match=r"exactly the model's input names \['left', 'right'\]. Received: keys \['a'"):
        act.feature_maps(model, {"a": x, "right": x}, layers=["c"])
    with pytest.raises(ValueError, match=r"need the same number of samples. Received: \[2, 1\]"):
        act.feature_maps(model, [x, x[:1]], layers=["c"])
    with pytest.raises(ValueError, match=r"Received: list holding ndarray of shape \(2, 6, 6, 1\)"):
        act.feature_maps(model, [x, x, x], layers=["c"])


def test_plot_feature_maps_draws_the_dict_feature_maps_returns():
    model = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(3, 3, name="c1"), L.Conv2D(2, 3, name="c2"),
                              L.Flatten(), L.Dense(4, name="d")])
    maps = act.feature_maps(model, np.random.default_rng(0).random((2, 8, 8, 1)), layers=["c1", "c2", "d"])
    fig = act.plot_feature_maps(maps)
    assert list(fig.deepkit_images) == ["c1", "c2", "d"] and len(fig.axes) >= 3
    one = act.plot_feature_maps(maps, layer="c2")
    np.testing.assert_array_equal(one.deepkit_image, act.plot_feature_maps(maps["c2"]).deepkit_image)
    only = act.plot_feature_maps(act.feature_maps(model, np.zeros((1, 8, 8, 1)), layers=["c1"]))
    assert only.deepkit_image.ndim == 3
    with pytest.raises(ValueError, match=r"layer must be one of the maps' keys \['c1', 'c2', 'd'\]. Received: layer='x'"):
        act.plot_feature_maps(maps, layer="x")
