"""LRP (:mod:`deepkit.viz.attribution.lrp`) against Captum's ``LRP`` on the same model and
weights, BatchNorm canonization against the original model, and relevance conservation on a
small ResNet with BatchNorm. Each test names the planted error it caught."""

import keras
import numpy as np
import pytest

from deepkit.viz.attribution.lrp import lrp, lrp_context
from tests.viz.attribution.torch_twins import keras_cnn, to_numpy, to_torch, torch_twin

torch = pytest.importorskip("torch")
captum_attr = pytest.importorskip("captum.attr")
rules_mod = pytest.importorskip("captum.attr._utils.lrp_rules")


@pytest.fixture(scope="module")
def twins():
    model = keras_cnn()
    x = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 2)).astype("float32")
    return model, x, np.array([0, 1, 2, 1])


def _captum_lrp(model, x, y, conv_rule, dense_rule, first_rule=None):
    net = torch_twin(model)
    first = True
    for module in net:
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            make = first_rule if (first and first_rule) else (conv_rule if isinstance(module, torch.nn.Conv2d)
                                                                else dense_rule)
            module.rule, first = make(), False
        elif isinstance(module, torch.nn.Flatten):
            module.rule = rules_mod.EpsilonRule(1e-9)  # R * x / (x + 1e-9 sign x): relevance passes through
    return to_numpy(captum_attr.LRP(net).attribute(to_torch(x), target=torch.tensor(y)))


def _relative(got, want):
    return float(np.abs(got - want).max() / np.abs(want).max())


RULES = {
    "epsilon": lambda: rules_mod.EpsilonRule(1e-9),
    "gamma": lambda: rules_mod.GammaRule(0.25),
    "zplus": lambda: rules_mod.Alpha1_Beta0_Rule(),
}


@pytest.mark.parametrize("rule", ["epsilon", "gamma", "zplus"])
def test_rules_match_captum(twins, rule):
    """One rule on every conv and dense layer (epsilon on the pools, as Captum) against Captum's
    ``LRP`` with ``EpsilonRule(1e-9)``, ``GammaRule(0.25)`` or ``Alpha1_Beta0_Rule()``.

    Planted errors caught: the gamma rule's ``w + gamma * |w|`` instead of ``w + gamma * max(w, 0)``
    (gamma: 1.0e0); z+ with ``|w|`` instead of ``max(w, 0)`` (zplus: 2.5e1); the trick's forward
    term not stopped (``y`` for ``stop_gradient(y)``: the gradient counted twice; epsilon: 6.3e1).
    """
    model, x, y = twins
    want = _captum_lrp(model, x, y, RULES[rule], RULES[rule])
    got = lrp(model, x, y, rules=rule, reduce=None)
    diff = _relative(got, want)
    print(f"\nparity lrp[{rule}] vs captum LRP: max |difference| / max |reference| = {diff:.1e}")
    # float32 (deepkit) vs float64 (Captum), with divisions by z' near zero on [-1, 1] inputs:
    # 1e-7 to 1.2e-5 seen (gamma on torch); every planted error is above 4e-1.
    assert diff < 1e-4


def test_composite_matches_captum(twins):
    """The default composite (z+ on convs, epsilon on dense) and one with a ``"first"`` rule
    (gamma on the first conv) against Captum's ``LRP`` with the same rule set per module.

    The inputs are non-negative here (as z+ assumes of its inputs): on [-1, 1] inputs z+ on the
    first conv divides by sums near zero and float32 rounding is amplified (2e-4 relative).

    Planted error caught: the ``"first"`` rule ignored (the first conv gets the conv rule): 4e-1.
    """
    model, _, y = twins
    x = np.random.default_rng(0).uniform(0, 1, (4, 8, 8, 2)).astype("float32")
    want = _captum_lrp(model, x, y, RULES["zplus"], RULES["epsilon"])
    diff = _relative(lrp(model, x, y, reduce=None), want)
    print(f"\nparity lrp[default composite] vs captum LRP: {diff:.1e}")
    assert diff < 1e-5
    want = _captum_lrp(model, x, y, RULES["zplus"], RULES["epsilon"], first_rule=RULES["gamma"])
    got = lrp(model, x, y, rules={"first": "gamma", "conv": "zplus", "dense": "epsilon"}, reduce=None)
    diff = _relative(got, want)
    print(f"parity lrp[gamma first, z+ conv, epsilon dense] vs captum LRP: {diff:.1e}")
    assert diff < 1e-5


def _resnet(center, seed=0):
    """A small ResNet: conv-BN-ReLU stem, a residual block (two conv-BN, Add, ReLU), max pool,
    a 1x1 conv-BN-ReLU, global average pooling and a dense head. ``center=False``: no biases
    anywhere and zero BN means (the merged layers are bias-free, so LRP conserves exactly)."""
    keras.utils.set_random_seed(seed)
    bias = center
    L = keras.layers
    x = keras.Input((8, 8, 3))
    h = L.ReLU()(L.BatchNormalization(center=center)(L.Conv2D(4, 3, padding="same", use_bias=bias)(x)))
    r = L.ReLU()(L.BatchNormalization(center=center)(L.Conv2D(4, 3, padding="same", use_bias=bias)(h)))
    r = L.BatchNormalization(center=center)(L.Conv2D(4, 3, padding="same", use_bias=bias)(r))
    h = L.MaxPooling2D(2)(L.ReLU()(L.Add()([h, r])))
    h = L.ReLU()(L.BatchNormalization(center=center)(L.Conv2D(6, 1, use_bias=bias)(h)))
    out = L.Dense(3, use_bias=bias)(L.Dense(5, activation="relu", use_bias=bias)(L.GlobalAveragePooling2D()(h)))
    model = keras.Model(x, out, name="tiny_resnet")
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, n).astype("float32"))
            if center:
                layer.moving_mean.assign(rng.uniform(-0.5, 0.5, n).astype("float32"))
                layer.beta.assign(rng.uniform(-0.5, 0.5, n).astype("float32"))
    return model


def test_canonized_model_computes_the_original_outputs():
    """Inside :func:`lrp_context` every BatchNorm is merged into its conv (biases, means and
    betas non-zero); the merged model's logits equal the original's.

    Planted error caught: the merged bias without the mean (``shift = beta``): 1.0e0 absolute.
    """
    model = _resnet(center=True)
    x = np.random.default_rng(1).uniform(0, 1, (3, 8, 8, 3)).astype("float32")
    original = keras.ops.convert_to_numpy(model(x, training=False))
    with lrp_context(model, "epsilon"):
        canonized = keras.ops.convert_to_numpy(model(x, training=False))
    print(f"\ncanonized vs original logits: max |difference| = {np.abs(canonized - original).max():.1e}")
    np.testing.assert_allclose(canonized, original, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rules", ["epsilon", "gamma", None])
def test_relevance_is_conserved_on_a_resnet_with_batchnorm(rules):
    """On a bias-free ResNet with BatchNorm (merged first) and a skip connection, the input
    relevance sums to the target logit (epsilon = 1e-9; positive inputs so that z+ conserves).

    Planted errors caught: the BatchNorm merged with ``1 / (v + e)`` instead of
    ``1 / sqrt(v + e)`` (relative error 1.8e-1).
    """
    model = _resnet(center=False)
    x = np.random.default_rng(2).uniform(0, 1, (4, 8, 8, 3)).astype("float32")
    y = np.array([0, 1, 2, 0])
    logits = keras.ops.convert_to_numpy(model(x, training=False))[np.arange(4), y]
    relevance = lrp(model, x, y, rules=rules, reduce=None).reshape(4, -1).sum(axis=1)
    error = float(np.abs(relevance - logits).max() / np.abs(logits).max())
    print(f"\nconservation lrp[{rules}]: max |sum R - logit| / max |logit| = {error:.1e}")
    assert error < 1e-4


def test_refuses_layers_it_cannot_handle_naming_them():
    """A sigmoid Dense layer, a LayerNormalization and a BatchNorm with no conv before it are refused."""
    L = keras.layers
    tanh = keras.Sequential([keras.Input((4,)), L.Dense(3, activation="sigmoid", name="squash"), L.Dense(2)])
    with pytest.raises(ValueError, match="'squash'.*sigmoid"):
        lrp(tanh, np.ones((1, 4)))
    norm = keras.Sequential([keras.Input((4,)), L.LayerNormalization(name="ln"), L.Dense(2)])
    with pytest.raises(ValueError, match="'ln'.*LayerNormalization"):
        lrp(norm, np.ones((1, 4)))
    first = keras.Sequential([keras.Input((4,)), L.BatchNormalization(name="bn0"), L.Dense(2)])
    with pytest.raises(ValueError, match="'bn0'"):
        lrp(first, np.ones((1, 4)))
    with pytest.raises(ValueError, match="unknown rule 'flat'"):
        lrp(first, np.ones((1, 4)), rules="flat")
