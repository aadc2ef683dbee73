"""The zoo: every registered model builds, runs, has the published parameter count, round-trips through
its spec and through a .keras file. Numbers below are written out from the papers / torchvision, not read
from the registry, so a wrong table entry fails here."""

import math
import os

import keras
import numpy as np
import pytest

import deepkit
from deepkit import models
from deepkit.core import build_document
from deepkit.spec import format_spec
from deepkit.spec.parse import load_document

# Trainable parameters at the default input shape and number of classes.
PUBLISHED = {
    "lenet5": 61_706,            # 6*26 + 16*151 + 120*401 + 84*121 + 10*85
    "lenet5_paper": 60_000,      # LeCun et al. 1998: 156 + 12 + 1,516 + 32 + 48,120 + 10,164
    "alexnet": 61_100_840,       # torchvision
    "alexnet_paper": 60_965_224,  # two groups, 227x227
    # 64*(75+1) + 192*(1600+1) + 384*(1728+1) + 256*(3456+1) + 256*(2304+1) + 1024*(2304+1) + 1024*1025 + 10*1025
    "alexnet_small": 5_871_434,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,  # torchvision
    "resnet101": 44_549_160, "resnet152": 60_192_808,
    "cifar_resnet20": 269_722, "cifar_resnet32": 464_154, "cifar_resnet44": 658_586,  # He et al. sec. 4.2
    "cifar_resnet56": 853_018, "cifar_resnet110": 1_727_962,
    "cifar_resnet1202": 19_421_274,  # "19.4M"
    # torchvision's vgg11 ... vgg19 and vgg11_bn ... vgg19_bn (keras.applications: the same for VGG16/19)
    "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
    "vgg11_bn": 132_868_840, "vgg13_bn": 133_053_736, "vgg16_bn": 138_365_992, "vgg19_bn": 143_678_248,
    # convolutions (VGG-16: 14,714,688) + BatchNorm gamma/beta (2 x 4,224 channels for VGG-16) + 512*10 + 10
    "cifar_vgg11": 9_231_114, "cifar_vgg13": 9_416_010, "cifar_vgg16": 14_728_266, "cifar_vgg19": 20_040_522,
    "googlenet_paper": 6_998_552,  # Szegedy et al. Table 1 with biases (6,998,552 as the Caffe model)
    "googlenet": 6_624_904,  # torchvision (aux_logits=False)
    "cifar_googlenet": 5_983_402,
}
# With the two auxiliary classifiers (aux_logits=True).
PUBLISHED_AUX = {"googlenet_paper": 13_378_280, "googlenet": 13_004_888, "cifar_googlenet": 7_188_158}
# 130-140 M parameters each: built one at a time (never cached) in test_vgg_counts_and_multiply_adds.
HUGE = {"vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"}
# Too slow for the default suite in full (build ~40 s, one forward pass ~60 s on 2 CPU cores).
SLOW = {"cifar_resnet1202"}
# Parameter count, forward pass and spec checked by default; rebuild and .keras round trip only in slow.
BIG = {"alexnet", "alexnet_paper", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "cifar_resnet32",
       "cifar_resnet44", "cifar_resnet56", "cifar_resnet110", "cifar_resnet1202", "cifar_vgg13", "cifar_vgg16",
       "cifar_vgg19", "googlenet_paper", "cifar_googlenet", *HUGE}
# Drawing 20-60 M He-normal numbers dominates building the big ResNets; the parameter count, the shapes and
# the multiply-adds do not depend on the initializer (real initializers: test_convert.py).
BUILD_KWARGS = {name: {"kernel_initializer": "zeros"}
                for name in ("resnet34", "resnet50", "resnet101", "resnet152", "cifar_resnet56", "cifar_resnet110",
                             "cifar_vgg16", "cifar_vgg19", *HUGE)}

_CACHE = {}


def built(name):
    """Each model is built once per test session at its default shape (the 130-140 M-parameter VGGs are
    rebuilt each time rather than kept: eight of them would hold 4.4 GB)."""
    if name in HUGE:
        return models.create(name, **BUILD_KWARGS.get(name, {}))
    if name not in _CACHE:
        _CACHE[name] = models.create(name, **BUILD_KWARGS.get(name, {}))
    return _CACHE[name]


def sized(name):
    """The model with its weights' shapes only (nothing allocated): enough for counts and shapes."""
    if name not in HUGE:
        return built(name)
    return build_document(load_document(models.get_spec(name)), allocate=False)


# The eight VGGs share one builder: all are counted and their specs checked by default (without
# allocating); only VGG-16 is also run, saved and rebuilt (slow), ~40 s per build on 2 CPU cores.
HUGE_RUN = {"vgg16"}


# ResNet-1202 repeats ResNet-20's blocks 200 times: its counts, forward pass and file round trip run on
# one backend (every block type runs on every backend in the smaller CIFAR ResNets); ~130 s per backend.
ONCE = pytest.mark.backends("tensorflow", reason="ResNet-1202 is ResNet-20's blocks repeated; checked on one backend")


def _marks(name, slow):
    marks = [pytest.mark.slow] if slow else []
    return marks + ([ONCE] if name in SLOW else [])


# One model per builder and block type runs the slow round trips (.keras file, rebuild from its spec); the
# others differ from it only in depth or width, which the default tests' counts, shapes and specs check.
ROUND_TRIP_BIG = {"alexnet_paper", "resnet18", "resnet50", "cifar_resnet56", "cifar_vgg16", "googlenet_paper", "vgg16"}


def small_params(names):
    return [pytest.param(n, marks=_marks(n, n in BIG)) for n in names if n not in HUGE - HUGE_RUN]


def params(names):
    return [pytest.param(n, marks=_marks(n, n in SLOW or n in HUGE)) for n in names if n not in HUGE - HUGE_RUN]


def trainable(model):
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def test_registry_lists_exactly_the_published_models():
    assert set(models.list_models()) == set(PUBLISHED)
    for name, count in PUBLISHED.items():
        assert models.model_info(name).trainable_params == count


@pytest.mark.parametrize("name", params(models.list_models()))
def test_trainable_parameters_equal_published(name):
    model = built(name)
    assert isinstance(model, deepkit.Model) and isinstance(model, keras.Model)
    assert trainable(model) == PUBLISHED[name]
    assert models.count_trainable(model) == PUBLISHED[name]
    assert deepkit.count_macs(model) == models.model_info(name).macs  # what `deepkit models` lists


@pytest.mark.parametrize("name", params(models.list_models()))
def test_forward_pass(name):
    model = built(name)
    info = models.model_info(name)
    assert tuple(model.input_shape[1:]) == info.input_shape
    x = np.random.default_rng(0).uniform(0, 1, size=(2, *info.input_shape)).astype("float32")
    # An untrained ResNet-1202 in inference mode (BatchNorm still the identity) sums 600 residual branches
    # and overflows float32; with batch statistics, as in training, it stays finite.
    y = keras.ops.convert_to_numpy(model(x, training=name == "cifar_resnet1202"))
    assert y.shape == (2, info.num_classes)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)  # softmax output by default


@pytest.mark.parametrize("name", params(models.list_models()))
def test_to_spec_round_trip(name, tmp_path):
    model = built(name)
    spec = model.to_spec()
    assert spec == models.get_spec(name, **BUILD_KWARGS.get(name, {}))
    assert spec["name"] == name and spec["input_shape"] == list(models.model_info(name).input_shape)
    # to_spec -> YAML text -> parse -> the same spec, without building.
    assert load_document(model.to_spec("yaml")).to_data() == spec
    if name in BIG:
        return  # one per builder is rebuilt in test_big_models_rebuild_from_spec (slow)
    rebuilt = deepkit.from_spec(spec)
    assert [(l.name, type(l)) for l in rebuilt.layers] == [(l.name, type(l)) for l in model.layers]
    assert [tuple(w.shape) for w in rebuilt.weights] == [tuple(w.shape) for w in model.weights]
    assert rebuilt.to_spec() == spec


@pytest.mark.parametrize("name", small_params(n for n in models.list_models() if n not in BIG or n in ROUND_TRIP_BIG))
def test_save_and_load(name, tmp_path):
    model = built(name)
    path = os.path.join(tmp_path, f"{name}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, deepkit.Model) and loaded.to_spec() == model.to_spec()
    x = np.random.default_rng(1).normal(size=(2, *model.input_shape[1:])).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x, training=False)),
                               keras.ops.convert_to_numpy(model(x, training=False)), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", small_params(sorted(ROUND_TRIP_BIG)))
def test_big_models_rebuild_from_spec(name):
    model = built(name)
    rebuilt = deepkit.from_spec(model.to_spec())
    assert trainable(rebuilt) == PUBLISHED[name]
    assert [l.name for l in rebuilt.layers] == [l.name for l in model.layers]


# ----------------------------------------------------------------------------- multiply-adds

@pytest.mark.parametrize("name,gmacs", [("resnet18", 1.81), ("resnet34", 3.66), ("resnet50", 4.09),
                                        ("resnet101", 7.80), ("resnet152", 11.51)])
def test_imagenet_resnet_multiply_adds(name, gmacs):
    # torchvision's model cards (GFLOPS, counted as multiply-adds) for its layout, the default here.
    # He et al. Table 1 (1.8, 3.6, 3.8, 7.6, 11.3 x 10^9) has the stride in the 1x1 convolution, see below.
    assert round(deepkit.count_macs(built(name)) / 1e9, 2) == gmacs
    assert abs(deepkit.count_macs(built(name)) / 1e9 - {1.81: 1.8, 3.66: 3.6, 4.09: 3.8, 7.80: 7.6,
                                                        11.51: 11.3}[gmacs]) < 0.3


@pytest.mark.parametrize("name,gmacs", [
    ("resnet50", 3.86),
    pytest.param("resnet101", 7.57, marks=pytest.mark.slow), pytest.param("resnet152", 11.28, marks=pytest.mark.slow),
])
def test_paper_stride_placement_matches_table_1(name, gmacs):
    model = models.create(name, stride_in_1x1=True, kernel_initializer="zeros")
    assert round(deepkit.count_macs(model) / 1e9, 2) == gmacs  # Table 1: 3.8, 7.6, 11.3 x 10^9
    assert tuple(model.get_layer("layer2_block0_conv1").strides) == (2, 2)
    assert tuple(model.get_layer("layer2_block0_conv2").strides) == (1, 1)
    assert trainable(model) == PUBLISHED[name]


def test_lenet5_multiply_adds():
    # C1 28*28*6*25 + C3 10*10*16*150 + C5 120*400 + F6 120*84 + output 84*10
    assert deepkit.count_macs(built("lenet5")) == 117_600 + 240_000 + 48_000 + 10_080 + 840
    # the paper's C3 has 60 kernels instead of 96; S2/S4 one multiply per output; RBF one per input and unit
    assert deepkit.count_macs(built("lenet5_paper")) == 117_600 + 1_176 + 150_000 + 400 + 48_000 + 10_080 + 840


def test_cifar_resnet20_multiply_adds():
    assert round(deepkit.count_macs(built("cifar_resnet20")) / 1e6, 1) == 40.6


def test_alexnet_multiply_adds():
    # torchvision reports 0.71 GFLOPS (multiply-adds) for AlexNet.
    assert round(deepkit.count_macs(built("alexnet")) / 1e9, 2) == 0.71


# ----------------------------------------------------------------------------- architecture details

def test_lenet5_pads_28_to_32_like_lecun():
    model = built("lenet5")
    assert tuple(model.get_layer("pad").output.shape) == (None, 32, 32, 1)
    assert tuple(model.get_layer("c1").output.shape) == (None, 28, 28, 6)
    assert tuple(model.get_layer("c5").output.shape) == (None, 1, 1, 120)
    # the unpadded build would have a 4x4 C5 input: 44,426 parameters, the wrong number.
    assert trainable(model) != 44_426
    no_pad = models.lenet5(input_shape=(32, 32, 1))
    assert "pad" not in [l.name for l in no_pad.layers] and trainable(no_pad) == 61_706
    flat = models.lenet5(input_shape=(28, 28))  # MNIST arrays without a channel axis
    assert tuple(flat.get_layer("reshape").output.shape) == (None, 28, 28, 1)


def test_lenet5_paper_structure():
    model = built("lenet5_paper")
    per_layer = {l.name: trainable(l) for l in model.layers if l.weights}
    assert per_layer == {"c1": 156, "s2": 12, "c3": 1516, "s4": 32, "c5": 48120, "f6": 10164, "output": 0}
    assert model.count_params() == 60_000 + 840  # the fixed RBF centres


def test_alexnet_paper_groups_and_shapes():
    model = built("alexnet_paper")
    assert tuple(model.get_layer("conv1").output.shape) == (None, 55, 55, 96)
    assert tuple(model.get_layer("pool5").output.shape) == (None, 6, 6, 256)
    assert [model.get_layer(n).groups for n in ("conv1", "conv2", "conv3", "conv4", "conv5")] == [1, 2, 1, 2, 2]
    assert type(model.get_layer("norm1")).__name__ == "LocalResponseNormalization"


def test_alexnet_torchvision_shapes():
    model = built("alexnet")
    assert tuple(model.get_layer("conv1").output.shape) == (None, 55, 55, 64)
    assert tuple(model.get_layer("pool5").output.shape) == (None, 6, 6, 256)
    small = models.alexnet(input_shape=(127, 127, 3), num_classes=5)
    # the adaptive 6x6 pooling keeps fc6 at 9216 inputs whatever the image size
    assert small.get_layer("fc6").kernel.shape == (9216, 4096)


def test_resnet_layer_names_and_downsampling():
    model = built("resnet18")
    assert tuple(model.get_layer("maxpool").output.shape) == (None, 56, 56, 64)
    assert tuple(model.get_layer("layer4_block1_out").output.shape) == (None, 7, 7, 512)
    assert tuple(model.get_layer("layer2_block0_conv1").strides) == (2, 2)
    assert model.get_layer("layer2_block0_downsample_conv").kernel.shape == (1, 1, 64, 128)
    names = {l.name for l in model.layers}
    assert "layer1_block0_downsample_conv" not in names  # identity shortcut where shapes agree
    assert all(not l.use_bias for l in model.layers if isinstance(l, keras.layers.Conv2D))
    r50 = built("resnet50")
    assert "layer1_block0_downsample_conv" in {l.name for l in r50.layers}  # 64 -> 256 channels
    assert tuple(r50.get_layer("layer2_block0_conv2").strides) == (2, 2)  # torchvision v1.5


def test_cifar_resnet_option_a_has_no_projection():
    model = built("cifar_resnet20")
    shortcut = model.get_layer("layer2_block0_shortcut")
    assert type(shortcut).__name__ == "ChannelPadShortcut" and not shortcut.weights
    assert tuple(model.get_layer("layer3_block2_out").output.shape) == (None, 8, 8, 64)
    option_b = models.cifar_resnet20(shortcut="B")
    # two 1x1 projections (16->32, 32->64) with BatchNorm (gamma, beta): 512 + 2048 + 64 + 128 more
    assert trainable(option_b) == 269_722 + 2_752


@pytest.mark.parametrize("name,pooling,shape", [
    ("cifar_resnet20", None, (None, 8, 8, 64)), ("cifar_resnet20", "avg", (None, 64)),
    ("resnet18", "max", (None, 512)), ("alexnet_small", None, (None, 3, 3, 256)), ("lenet5", "avg", (None, 120)),
    ("cifar_vgg11", None, (None, 1, 1, 512)), ("cifar_vgg11", "max", (None, 512)),
    ("cifar_googlenet", "avg", (None, 1024)),
])
def test_include_top_false_and_pooling(name, pooling, shape):
    kwargs = {"input_shape": (64, 64, 3)} if name == "resnet18" else {}
    model = models.create(name, include_top=False, pooling=pooling, **kwargs)
    assert tuple(model.output.shape) == shape


def test_classifier_activation_none_gives_logits_and_custom_classes():
    model = models.cifar_resnet20(num_classes=7, classifier_activation=None)
    x = np.random.default_rng(2).normal(size=(3, 32, 32, 3)).astype("float32")
    y = keras.ops.convert_to_numpy(model(x, training=False))
    assert y.shape == (3, 7) and not np.allclose(y.sum(axis=1), 1.0)


def test_weights_from_local_file(tmp_path):
    source = models.create("cifar_resnet20")
    path = os.path.join(tmp_path, "r20.weights.h5")
    source.save_weights(path)
    loaded = models.create("cifar_resnet20", weights=path)
    x = np.random.default_rng(3).normal(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x, training=False)),
                               keras.ops.convert_to_numpy(source(x, training=False)), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="does not fit model 'lenet5'"):
        models.create("lenet5", weights=path)


def test_names_are_accepted_loosely_and_aliases_resolve():
    assert models.resolve("ResNet-50") == "resnet50"
    assert models.resolve("resnet20") == "cifar_resnet20"
    assert models.resolve("LeNet-5") == "lenet5"
    assert models.list_models("cifar_resnet1*") == ["cifar_resnet110", "cifar_resnet1202"]
    assert models.list_models("alex") == ["alexnet", "alexnet_paper", "alexnet_small"]
    assert models.resolve("VGG-16") == "vgg16" and models.resolve("vgg16-bn") == "vgg16_bn"
    assert models.resolve("GoogLeNet") == "googlenet" and models.resolve("inception_v1") == "googlenet"
    assert models.list_models("vgg1*") == ["vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
                                           "vgg19_bn"]


def test_plain_functions_match_create():
    assert models.lenet5().to_spec() == models.create("lenet5").to_spec()
    assert models.cifar_resnet56 is not None and models.resnet152 is not None
    assert models.lenet5_paper(num_classes=5).output.shape[-1] == 5


# ----------------------------------------------------------------------------- errors

def test_unknown_model_lists_close_matches():
    with pytest.raises(ValueError, match=r"unknown model 'resnet51'\. Did you mean 'resnet50'") as err:
        models.create("resnet51")
    assert "Available:" in str(err.value) and "cifar_resnet20" in str(err.value)
    with pytest.raises(ValueError, match="Did you mean 'alexnet'"):
        models.create("alexnett")


def test_too_small_input_explains_minimum():
    with pytest.raises(ValueError, match=r"'resnet50' needs images of at least 32x32: it halves the image five "
                                         r"times.*Received: input_shape=\(16, 16, 3\)"):
        models.resnet50(input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match=r"'alexnet' needs images of at least 63x63.*width 40"):
        models.alexnet(input_shape=(224, 40, 3))
    with pytest.raises(ValueError, match="at least 67x67"):
        models.alexnet_paper(input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="at least 15x15"):
        models.alexnet_small(input_shape=(14, 14, 3))
    with pytest.raises(ValueError, match=r"'vgg16' needs images of at least 32x32: its five 2x2 max-poolings with "
                                         r"stride 2 halve the image five times.*Received: input_shape=\(31, 64, 3\)"):
        models.vgg16(input_shape=(31, 64, 3))
    with pytest.raises(ValueError, match=r"'cifar_vgg16' needs images of at least 32x32.*width 28"):
        models.cifar_vgg16(input_shape=(32, 28, 3))
    with pytest.raises(ValueError, match=r"'googlenet' needs images of at least 32x32: it halves the image five "
                                         r"times \(conv1, maxpool1.*Received: input_shape=\(24, 24, 3\)"):
        models.googlenet(input_shape=(24, 24, 3))
    with pytest.raises(ValueError, match="'googlenet_paper' needs images of at least 32x32"):
        models.googlenet_paper(input_shape=(224, 16, 3))
    with pytest.raises(ValueError, match=r"'cifar_googlenet' needs images of at least 16x16.*four times"):
        models.cifar_googlenet(input_shape=(8, 8, 3))
    with pytest.raises(ValueError, match=r"with aux_logits=True needs images of at least 65x65: inception4a sees "
                                         r"the image 16 times smaller.*5x5 window.*\(64, 64, 3\)"):
        models.googlenet(input_shape=(64, 64, 3), aux_logits=True)
    with pytest.raises(ValueError, match="aux_logits=True adds classifiers, so it needs include_top=True"):
        models.googlenet(include_top=False, aux_logits=True)
    with pytest.raises(ValueError, match=r"'vgg16' with include_top=True needs a known input size"):
        models.vgg16(input_shape=(None, None, 3))


@pytest.mark.parametrize("kwargs,match", [
    ({"input_shape": (32, 32)}, r"input_shape must be \(height, width, channels\).*Received: input_shape=\(32, 32\)"),
    ({"num_classes": 0}, "Received: num_classes=0"),
    ({"pooling": "mean"}, "Received: pooling='mean'"),
    ({"weights": "imagenet"}, r"weights file not found\. Weights for this model: none\. weights='imagenet' exists "
                              r"for: alexnet, googlenet, resnet101"),
    ({"weights": "/nonexistent/w.weights.h5"}, "weights file not found"),
    ({"shortcut": "C"}, "Received: shortcut='C'"),
    ({"shortcutt": "A"}, "unknown argument 'shortcutt'. Did you mean 'shortcut'"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.create("cifar_resnet20", **kwargs)


# ----------------------------------------------------------------------------- VGG and GoogLeNet

@pytest.mark.parametrize("name,gmacs", [("vgg11", 7.61), ("vgg13", 11.31), ("vgg16", 15.47), ("vgg19", 19.63),
                                        ("vgg11_bn", 7.61), ("vgg13_bn", 11.31), ("vgg16_bn", 15.47),
                                        ("vgg19_bn", 19.63)])
def test_vgg_counts_and_multiply_adds(name, gmacs):
    # torchvision's model cards: 7.61 / 11.31 / 15.47 / 19.63 GFLOPS (multiply-adds); "about 15.5 G" for VGG-16.
    model = sized(name)  # weights' shapes only: the counts and shapes do not depend on their values
    assert trainable(model) == PUBLISHED[name]
    assert models.count_trainable(model) == PUBLISHED[name]
    assert round(deepkit.count_macs(model) / 1e9, 2) == gmacs
    assert deepkit.count_macs(model) == models.model_info(name).macs
    assert tuple(model.get_layer("block5_pool").output.shape) == (None, 7, 7, 512)
    assert model.get_layer("fc1").kernel.shape == (25088, 4096)
    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    assert len(convs) + 3 == int(name[3:5])  # VGG-16: 13 convolutions and 3 dense layers
    assert all(l.kernel.shape[:2] == (3, 3) and l.use_bias for l in convs)
    n_bn = sum(isinstance(l, keras.layers.BatchNormalization) for l in model.layers)
    assert n_bn == (len(convs) if name.endswith("_bn") else 0)
    del model


@pytest.mark.parametrize("name", sorted(HUGE))
def test_huge_vgg_specs_round_trip_without_building(name):
    spec = models.get_spec(name)
    assert load_document(format_spec(spec, "yaml")).to_data() == spec
    assert [e["sequential"]["name"] for e in spec["layers"][:5]] == ["block1", "block2", "block3", "block4", "block5"]


def test_cifar_vgg_stem_and_top():
    model = built("cifar_vgg11")
    assert tuple(model.get_layer("block1_conv1").output.shape) == (None, 32, 32, 64)  # the stem keeps 32x32
    assert tuple(model.get_layer("block5_pool").output.shape) == (None, 1, 1, 512)
    assert model.get_layer("predictions").kernel.shape == (512, 10)
    assert isinstance(model.get_layer("block1_bn1"), keras.layers.BatchNormalization)
    plain = models.cifar_vgg11(batch_norm=False, dropout=0.5)
    assert trainable(plain) == PUBLISHED["cifar_vgg11"] - 2 * 2752 and plain.get_layer("drop").rate == 0.5


def test_googlenet_shapes_and_readable_names():
    model = built("googlenet")
    expect = {"conv1": (112, 112, 64), "maxpool1": (56, 56, 64), "conv3": (56, 56, 192), "maxpool2": (28, 28, 192),
              "inception3a_branch1x1_conv": (28, 28, 64), "inception3a_branch3x3_conv": (28, 28, 128),
              "inception3a_branchpool_proj_conv": (28, 28, 32), "inception3a_concat": (28, 28, 256),
              "inception3b_concat": (28, 28, 480), "maxpool3": (14, 14, 480), "inception4e_concat": (14, 14, 832),
              "maxpool4": (7, 7, 832), "inception5b_concat": (7, 7, 1024)}  # Szegedy et al. Table 1
    assert {n: tuple(model.get_layer(n).output.shape[1:]) for n in expect} == expect
    # torchvision's BasicConv2d (bias-free conv, BatchNorm eps 1e-3) and its 3x3 kernel in the "5x5" branch
    assert not model.get_layer("inception3a_branch5x5_conv").use_bias
    assert model.get_layer("inception3a_branch5x5_conv").kernel.shape == (3, 3, 16, 32)
    assert model.get_layer("inception3a_branch5x5_bn").epsilon == 1e-3
    paper = built("googlenet_paper")
    assert paper.get_layer("inception3a_branch5x5_conv").kernel.shape == (5, 5, 16, 32)
    assert paper.get_layer("inception3a_branch5x5_conv").use_bias
    assert type(paper.get_layer("norm1")).__name__ == "LocalResponseNormalization"
    assert tuple(paper.get_layer("maxpool4").output.shape) == (None, 7, 7, 832)  # 3x3/2 as Table 1


def test_googlenet_multiply_adds():
    # "1.5 billion multiply-adds" (Szegedy et al. sec. 1); torchvision's card: 1.50 GFLOPS
    assert round(deepkit.count_macs(built("googlenet")) / 1e9, 2) == 1.50
    assert round(deepkit.count_macs(built("googlenet_paper")) / 1e9, 2) == 1.58


def test_inception_block_is_a_short_parallel_entry():
    import yaml

    for name, lengths, lines in (("googlenet_paper", [1, 2, 2, 2], 12), ("googlenet", [3, 6, 6, 4], 26)):
        entries = built(name).to_spec()["layers"]
        blocks = [e["parallel"] for e in entries if "parallel" in e]
        assert [b["name"] for b in blocks] == [f"inception{k}" for k in ("3a", "3b", "4a", "4b", "4c", "4d", "4e",
                                                                          "5a", "5b")]
        assert [len(branch) for branch in blocks[0]["branches"]] == lengths
        text = yaml.safe_dump([{"parallel": blocks[0]}], sort_keys=False, default_flow_style=None)
        assert len(text.splitlines()) <= lines, text
    assert len(entries) < 30  # the whole network reads as stem, nine modules, pools and the head


@pytest.mark.parametrize("name", ["googlenet_paper", "googlenet", "cifar_googlenet"])
def test_googlenet_auxiliary_classifiers(name):
    model = models.create(name, aux_logits=True)
    assert trainable(model) == PUBLISHED_AUX[name]
    classes = models.model_info(name).num_classes
    assert {k: tuple(v.shape) for k, v in model.output.items()} == {k: (None, classes) for k in ("fc", "aux1", "aux2")}
    # the heads branch off after inception4a and inception4d; the main path does not pass through them
    assert model.get_layer("aux1_pool").input is model.get_layer("inception4a_concat").output
    assert model.get_layer("aux2_pool").input is model.get_layer("inception4d_concat").output
    side = [e for e in model.to_spec()["layers"] if "side_output" in e]
    assert [e["side_output"]["name"] for e in side] == ["aux1", "aux2"]
    if name == "googlenet_paper":  # section 5: 5x5/3 pool, 128 1x1 filters, 1024 units, dropout 0.7
        assert tuple(model.get_layer("aux1_pool").output.shape) == (None, 4, 4, 512)
        assert model.get_layer("aux1_fc1").kernel.shape == (2048, 1024)
        assert model.get_layer("aux1_drop").rate == 0.7


def test_googlenet_with_aux_saves_and_loads(tmp_path):
    model = models.cifar_googlenet(aux_logits=True, classifier_activation=None)
    x = np.random.default_rng(4).normal(size=(4, 32, 32, 3)).astype("float32")
    path = os.path.join(tmp_path, "g.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.to_spec() == model.to_spec()
    a, b = model(x, training=False), loaded(x, training=False)
    assert sorted(a) == sorted(b) == ["aux1", "aux2", "fc"]
    for key in a:
        np.testing.assert_allclose(keras.ops.convert_to_numpy(b[key]), keras.ops.convert_to_numpy(a[key]),
                                   rtol=1e-5, atol=1e-5)
