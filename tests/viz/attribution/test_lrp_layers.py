"""LRP through a depthwise convolution (with BatchNorm merged into it) and a Concatenate, against
numpy written from the rules (Bach et al. 2015; Montavon et al. 2019), every layer as an explicit
matrix; and relevance conservation on the zoo's GoogLeNet (Inception branches joined by
Concatenate, BatchNorm after every convolution). Each test names the planted errors it caught."""

import keras
import numpy as np
import pytest

from deepkit.viz.attribution.lrp import lrp

EPS = 1e-9


def _model(seed=0):
    """x (5, 5, 2) -> DepthwiseConv2D(3, x2) "dw" -> BatchNorm "bn" -> ReLU = h (3, 3, 4);
    Conv2D(3, 1, relu) "pw" on h = a; Concatenate [h, a] (3, 3, 7) -> Flatten -> Dense(3) "out"."""
    keras.utils.set_random_seed(seed)
    x = keras.Input((5, 5, 2))
    h = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw", bias_initializer="random_normal")(x)
    h = keras.layers.ReLU()(keras.layers.BatchNormalization(name="bn")(h))
    a = keras.layers.Conv2D(3, 1, activation="relu", name="pw", bias_initializer="random_normal")(h)
    y = keras.layers.Dense(3, name="out")(keras.layers.Flatten()(keras.layers.Concatenate()([h, a])))
    model = keras.Model(x, y)
    rng = np.random.default_rng(seed)
    bn = model.get_layer("bn")
    bn.set_weights([rng.uniform(0.5, 1.5, 4), rng.normal(0, 0.2, 4), rng.normal(0, 0.3, 4), rng.uniform(0.5, 2, 4)])
    return model


def _matrices(model):
    """Each linear layer as ``(W, b)`` on row-major flattened (row, col, channel) vectors."""
    k, b = (np.asarray(v, "float64") for v in model.get_layer("dw").weights)
    gamma, beta, mean, var = (np.asarray(v, "float64") for v in model.get_layer("bn").weights)
    scale = gamma / np.sqrt(var + model.get_layer("bn").epsilon)
    w_dw = np.zeros((5, 5, 2, 3, 3, 4))
    for i in range(3):
        for j in range(3):
            for c in range(2):
                for m in range(2):  # output channel c * multiplier + m
                    w_dw[i:i + 3, j:j + 3, c, i, j, c * 2 + m] = k[:, :, c, m]
    w_dw = w_dw.reshape(50, 36) * np.tile(scale, 9)
    b_dw = np.tile((b - mean) * scale + beta, 9)
    kp, bp = (np.asarray(v, "float64") for v in model.get_layer("pw").weights)
    w_pw = np.kron(np.eye(9), kp[0, 0])  # a 1x1 convolution: the same (4, 3) matrix at every position
    b_pw = np.tile(bp, 9)
    w_out, b_out = (np.asarray(v, "float64") for v in model.get_layer("out").weights)
    return (w_dw, b_dw), (w_pw, b_pw), (w_out, b_out)


def _rule(w, rule, gamma=0.25):
    return {"epsilon": w, "gamma": w + gamma * np.maximum(w, 0), "zplus": np.maximum(w, 0)}[rule]


def _lrp_linear(x, w, b, relevance, rule):
    """R_i = x_i sum_j w'_ij R_j / (z'_j + stab sign z'_j), z' = x w' + b (b' = b for every rule)."""
    wr = _rule(w, rule)
    z = x @ wr + b
    s = z + (EPS if rule == "epsilon" else 1e-9) * np.where(z >= 0, 1.0, -1.0)
    return x * ((relevance / s) @ wr.T)


def _numpy_lrp(model, x, c, conv_rule, dense_rule):
    (w_dw, b_dw), (w_pw, b_pw), (w_out, b_out) = _matrices(model)
    flat = x.reshape(-1).astype("float64")
    h = np.maximum(flat @ w_dw + b_dw, 0)
    a = np.maximum(h @ w_pw + b_pw, 0)
    cat = np.concatenate([h.reshape(9, 4), a.reshape(9, 3)], axis=1).reshape(-1)
    logits = cat @ w_out + b_out
    r_cat = _lrp_linear(cat, w_out, b_out, np.eye(3)[c] * logits, dense_rule).reshape(9, 7)
    r_h = r_cat[:, :4].reshape(-1) + _lrp_linear(h, w_pw, b_pw, r_cat[:, 4:].reshape(-1), conv_rule)
    return _lrp_linear(flat, w_dw, b_dw, r_h, conv_rule).reshape(5, 5, 2), logits


@pytest.mark.parametrize("rules", ["epsilon", "gamma", "zplus", None])
def test_depthwise_conv_and_concatenate_match_numpy(rules):
    """Every rule, and the default composite (z+ on both convolutions, epsilon on the dense layer),
    against numpy: the concatenation's relevance split by slices, the 1x1 branch's relevance added
    back to the depthwise block's, the depthwise convolution (BatchNorm merged) as a matrix.

    Planted errors caught: the BatchNorm scale of the depthwise layer reshaped (multiplier,
    channels) then transposed, i.e. output channel m * channels + c (all four fail, max |diff| 0.004
    to 0.06); the rule's weights not applied to a depthwise layer (gamma, zplus and the composite fail, max
    |diff| 0.006 to 0.06);
    the depthwise layer left out of the patched layers (all fail: the BatchNorm after it then has no
    linear layer to merge into, and LRP refuses).
    """
    model = _model()
    x = np.random.default_rng(1).uniform(0, 1, (3, 5, 5, 2)).astype("float32")
    classes = np.array([0, 2, 1])
    conv_rule, dense_rule = ("zplus", "epsilon") if rules is None else (rules, rules)
    got = lrp(model, x, classes, rules=rules, reduce=None)
    for i, c in enumerate(classes):
        want, logits = _numpy_lrp(model, x[i], c, conv_rule, dense_rule)
        np.testing.assert_allclose(np.asarray(model(x[i:i + 1]))[0], logits, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(got[i], want, atol=2e-5 * np.abs(want).max(), rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize("rules", ["epsilon"])  # the composite's rules are checked on the small models above
def test_relevance_is_conserved_on_googlenet(rules):
    """The zoo's GoogLeNet (torchvision layout: bias-free convolutions + BatchNorm, Inception
    branches joined by Concatenate, zero padding, max pools), random weights, 32x32 inputs: the
    input relevance sums to the target logit (all biases and BatchNorm shifts are zero at
    initialisation, so nothing but the stabilisers absorbs relevance).

    Planted error caught: the relevance of each Inception module's last ("pool") branch dropped at
    the join (``Concatenate`` patched to stop the gradient of its last input): the epsilon case
    fails (relative error 2.4; the composite was not run).
    """
    from deepkit.models import googlenet
    from deepkit.viz.engine import engine

    keras.utils.set_random_seed(0)
    model = googlenet(input_shape=(32, 32, 3), num_classes=10)
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
    classes = np.array([1, 7])
    logits = engine(model).predict_logits(x)[[0, 1], classes]
    relevance = lrp(model, x, classes, rules=rules)
    np.testing.assert_allclose(relevance.reshape(2, -1).sum(1), logits, rtol=1e-3)
    assert np.abs(logits).min() > 1e-4


def test_refusal_names_the_layer_and_lists_what_lrp_handles():
    model = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.SeparableConv2D(2, 3, name="sep"),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"layer 'sep' \(SeparableConv2D\) has no LRP rule.*DepthwiseConv1D/2D.*"
                                         r"Concatenate"):
        lrp(model, np.zeros((1, 6, 6, 2)))
