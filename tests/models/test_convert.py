"""The zoo's ResNets compute what the reference implementations compute.

- ResNet-50: the weights of keras.applications.ResNet50 (random, no download) converted into
  ``deepkit.models.resnet50(stride_in_1x1=True)`` give the same outputs.
- ResNet-18/50 (torchvision layout) and CIFAR ResNet-20 (option A): a PyTorch re-implementation of
  torchvision's ``resnet.py`` / the common CIFAR ``resnet.py``, loaded with the Keras weights, gives the same
  logits. This pins padding, stride placement, shortcut alignment and BatchNorm epsilon.
"""

import keras
import numpy as np
import pytest

from deepkit import models
from deepkit.models import convert


def to_np(x):
    return keras.ops.convert_to_numpy(x)


def randomize_batchnorm(model, seed=0):
    """Give every BatchNorm non-trivial statistics so inference mode is not the identity."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c), rng.normal(0, 0.1, c),
                               rng.uniform(0.5, 1.5, c)])


def assert_close(a, b, tol=1e-4):
    scale = max(1.0, float(np.abs(b).max()))
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale)


# ----------------------------------------------------------------------------- keras.applications

def test_resnet50_from_keras_applications_same_outputs():
    source = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10,
                                         classifier_activation=None)
    rng = np.random.default_rng(1)
    randomize_batchnorm(source)
    for layer in source.layers:  # keras.applications convolutions have biases; make them non-zero
        if isinstance(layer, keras.layers.Conv2D):
            layer.bias.assign(rng.normal(0, 0.1, layer.bias.shape).astype("float32"))
    x = rng.normal(size=(2, 64, 64, 3)).astype("float32")
    expected = to_np(source(x, training=False))
    assert np.abs(expected).max() > 1e-2  # a meaningful comparison, not two near-zero outputs

    model = convert.from_keras_applications(source)  # epsilon 1.001e-5 as the source
    assert models.count_trainable(model) == 25_557_032 - 2048 * 1000 - 1000 + 2048 * 10 + 10
    assert_close(to_np(model(x, training=False)), expected, 1e-4)

    # into a zoo model that keeps torchvision's epsilon 1e-5: the difference goes into the variance
    target = models.resnet50(input_shape=(64, 64, 3), num_classes=10, classifier_activation=None,
                             stride_in_1x1=True, kernel_initializer="zeros")
    convert.load_keras_applications_weights(target, source)
    assert target.get_layer("bn1").epsilon == 1e-5
    assert_close(to_np(target(x, training=False)), expected, 1e-4)

    v15 = models.resnet50(input_shape=(64, 64, 3), num_classes=10, kernel_initializer="zeros")
    with pytest.raises(ValueError, match="stride_in_1x1=True"):
        convert.load_keras_applications_weights(v15, source)


@pytest.mark.parametrize("source_fn,zoo,convs", [(keras.applications.VGG16, "vgg16", 13),
                                                 (keras.applications.VGG19, "vgg19", 16)])
def test_vgg_from_keras_applications_same_outputs(source_fn, zoo, convs):
    # 64x64 keeps the full layout (fc1 sees 2x2x512) at a fraction of 224x224's cost
    source = source_fn(weights=None, input_shape=(64, 64, 3), classes=10, classifier_activation=None)
    rng = np.random.default_rng(2)
    for layer in source.layers:  # keras.applications starts with zero biases; make them matter
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            layer.bias.assign(rng.normal(0, 0.05, layer.bias.shape).astype("float32"))
    x = rng.uniform(0, 1, size=(2, 64, 64, 3)).astype("float32")
    expected = to_np(source(x, training=False))
    assert np.abs(expected).max() > 1e-2

    model = convert.from_keras_applications(source)
    assert model.name == zoo and sum(isinstance(l, keras.layers.Conv2D) for l in model.layers) == convs
    assert models.count_trainable(model) == sum(int(np.prod(w.shape)) for w in source.trainable_weights)
    assert_close(to_np(model(x, training=False)), expected, 1e-4)

    features = source_fn(weights=None, include_top=False, pooling="max", input_shape=(48, 48, 3))
    converted = convert.from_keras_applications(features)
    assert tuple(converted.output.shape) == (None, 512)
    assert_close(to_np(converted(x[:, :48, :48], training=False)), to_np(features(x[:, :48, :48], training=False)))


def test_conversion_errors():
    with pytest.raises(ValueError, match="must be keras.applications.ResNet50"):
        convert.from_keras_applications(models.cifar_resnet20())
    source = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="has no layer 'block1_conv1'"):
        convert.load_keras_applications_weights(models.cifar_resnet20(), source)
    with pytest.raises(ValueError, match=r"source layer 'block1_conv1' has weights of shapes.*target layer"):
        convert.load_keras_applications_weights(models.vgg16(input_shape=(32, 32, 1), include_top=False), source)


# ----------------------------------------------------------------------------- PyTorch references

try:  # the keras.applications tests above need no torch; the references below do
    import torch
except ImportError:
    torch = None
nn = torch.nn if torch is not None else None
F = torch.nn.functional if torch is not None else None
needs_torch = pytest.mark.skipif(torch is None, reason="the PyTorch references need torch")
_Module = nn.Module if torch is not None else object


class TorchResNet(_Module):
    """torchvision.models.resnet (v1.5) and the CIFAR option-A ResNet, modules keyed by deepkit's layer names."""

    def __init__(self, block, layers, num_classes, cifar=False):
        super().__init__()
        self.m = nn.ModuleDict()
        self.block, self.cifar = block, cifar
        if cifar:
            self.m["conv1"] = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            widths, inplanes = (16, 32, 64), 16
        else:
            self.m["conv1"] = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            widths, inplanes = (64, 128, 256, 512), 64
        self.m["bn1"] = nn.BatchNorm2d(inplanes)
        self.plan = []
        expansion = 4 if block == "bottleneck" else 1
        for s, (n, planes) in enumerate(zip(layers, widths), start=1):
            for b in range(n):
                stride = 2 if (b == 0 and s > 1) else 1
                p = f"layer{s}_block{b}"
                out = planes * expansion
                if block == "basic":
                    self.m[f"{p}_conv1"] = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
                    self.m[f"{p}_conv2"] = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
                    convs = 2
                else:
                    self.m[f"{p}_conv1"] = nn.Conv2d(inplanes, planes, 1, bias=False)
                    self.m[f"{p}_conv2"] = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
                    self.m[f"{p}_conv3"] = nn.Conv2d(planes, out, 1, bias=False)
                    convs = 3
                for i in range(1, convs + 1):
                    self.m[f"{p}_bn{i}"] = nn.BatchNorm2d(self.m[f"{p}_conv{i}"].out_channels)
                down = None
                if stride != 1 or inplanes != out:
                    if cifar:
                        down = "A"
                    else:
                        self.m[f"{p}_downsample_conv"] = nn.Conv2d(inplanes, out, 1, stride, bias=False)
                        self.m[f"{p}_downsample_bn"] = nn.BatchNorm2d(out)
                        down = "B"
                self.plan.append((p, convs, down, out))
                inplanes = out
        self.m["fc"] = nn.Linear(inplanes, num_classes)

    def forward(self, x):
        m = self.m
        x = F.relu(m["bn1"](m["conv1"](x)))
        if not self.cifar:
            x = F.max_pool2d(x, 3, 2, 1)
        for p, convs, down, out in self.plan:
            y = x
            for i in range(1, convs + 1):
                y = m[f"{p}_bn{i}"](m[f"{p}_conv{i}"](y))
                if i < convs:
                    y = F.relu(y)
            if down == "A":  # the common CIFAR ResNet's LambdaLayer
                pad = (out - x.shape[1]) // 2
                short = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, pad, pad))
            elif down == "B":
                short = m[f"{p}_downsample_bn"](m[f"{p}_downsample_conv"](x))
            else:
                short = x
            x = F.relu(y + short)
        return m["fc"](torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def copy_keras_to_torch(model, reference):
    with torch.no_grad():
        for name, module in reference.m.items():
            weights = [to_np(w) for w in model.get_layer(name).weights]
            if isinstance(module, nn.Conv2d):
                module.weight.copy_(torch.from_numpy(weights[0].transpose(3, 2, 0, 1).copy()))
            elif isinstance(module, nn.BatchNorm2d):
                gamma, beta, mean, var = weights
                module.weight.copy_(torch.from_numpy(gamma))
                module.bias.copy_(torch.from_numpy(beta))
                module.running_mean.copy_(torch.from_numpy(mean))
                module.running_var.copy_(torch.from_numpy(var))
                assert module.eps == model.get_layer(name).epsilon
            else:
                module.weight.copy_(torch.from_numpy(weights[0].T.copy()))
                module.bias.copy_(torch.from_numpy(weights[1]))
    return reference.eval()


# Even sizes are where Keras' padding="same" would differ (it pads stride-2 convolutions only after, so the
# conv samples would not line up with the option-A shortcut's x[::2]); odd sizes check the rounding of sizes.
@needs_torch
@pytest.mark.parametrize("name,block,layers,size,cifar", [
    ("cifar_resnet20", "basic", (3, 3, 3), 32, True),
    ("cifar_resnet20", "basic", (3, 3, 3), 29, True),
    ("resnet18", "basic", (2, 2, 2, 2), 57, False),
    ("resnet50", "bottleneck", (3, 4, 6, 3), 64, False),
])
def test_same_logits_as_pytorch_reference(name, block, layers, size, cifar):
    # he_uniform: a real random initialisation, twice as fast to draw as the default he_normal
    model = models.create(name, input_shape=(size, size, 3), num_classes=10, classifier_activation=None,
                          kernel_initializer="he_uniform")
    randomize_batchnorm(model, seed=4)
    reference = copy_keras_to_torch(model, TorchResNet(block, layers, 10, cifar=cifar))
    assert sum(p.numel() for p in reference.parameters()) == models.count_trainable(model)
    x = np.random.default_rng(5).normal(size=(2, size, size, 3)).astype("float32")
    expected = reference(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).detach().numpy()
    got = to_np(model(x, training=False))
    assert np.abs(expected).max() > 1e-2
    assert_close(got, expected, 1e-4)


class TorchGoogLeNet(_Module):
    """torchvision.models.googlenet (BasicConv2d, 3x3 "5x5" branch, ceil_mode pools, no aux, no transform_input),
    modules keyed by deepkit's layer names."""

    WIDTHS = {"3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64), "4a": (192, 96, 208, 16, 48, 64),
              "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
              "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
              "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128)}  # Szegedy et al. Table 1

    def __init__(self, num_classes):
        super().__init__()
        self.m = nn.ModuleDict()
        self.unit("conv1", "conv1", 3, 64, 7, 2, 3)
        self.unit("conv2", "conv2", 64, 64, 1)
        self.unit("conv3", "conv3", 64, 192, 3, 1, 1)
        cin = 192
        for key, (b1, r3, b3, r5, b5, proj) in self.WIDTHS.items():
            p = f"inception{key}_"
            self.unit(p + "branch1x1", p + "branch1x1_conv", cin, b1, 1)
            self.unit(p + "branch3x3_reduce", p + "branch3x3_reduce_conv", cin, r3, 1)
            self.unit(p + "branch3x3", p + "branch3x3_conv", r3, b3, 3, 1, 1)
            self.unit(p + "branch5x5_reduce", p + "branch5x5_reduce_conv", cin, r5, 1)
            self.unit(p + "branch5x5", p + "branch5x5_conv", r5, b5, 3, 1, 1)  # torchvision's 3x3
            self.unit(p + "branchpool_proj", p + "branchpool_proj_conv", cin, proj, 1)
            cin = b1 + b3 + b5 + proj
        self.m["fc"] = nn.Linear(cin, num_classes)

    def unit(self, name, conv_name, cin, cout, k, stride=1, pad=0):
        self.m[conv_name] = nn.Conv2d(cin, cout, k, stride, pad, bias=False)
        self.m[f"{name}_bn"] = nn.BatchNorm2d(cout, eps=0.001)

    def run(self, name, conv_name, x):
        return F.relu(self.m[f"{name}_bn"](self.m[conv_name](x)))

    def forward(self, x):
        x = F.max_pool2d(self.run("conv1", "conv1", x), 3, 2, ceil_mode=True)
        x = self.run("conv3", "conv3", self.run("conv2", "conv2", x))
        x = F.max_pool2d(x, 3, 2, ceil_mode=True)
        for key in self.WIDTHS:
            p = f"inception{key}_"
            u = lambda n, t: self.run(p + n, p + n + "_conv", t)  # noqa: E731
            x = torch.cat([u("branch1x1", x), u("branch3x3", u("branch3x3_reduce", x)),
                           u("branch5x5", u("branch5x5_reduce", x)),
                           u("branchpool_proj", F.max_pool2d(x, 3, 1, 1, ceil_mode=True))], 1)
            if key == "3b":
                x = F.max_pool2d(x, 3, 2, ceil_mode=True)
            elif key == "4e":
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        return self.m["fc"](torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


@needs_torch
def test_googlenet_same_logits_as_torchvision_layout():
    # 64x64: every map size before a pooling is even, where Keras' "same" pooling equals ceil_mode (as at 224)
    model = models.googlenet(input_shape=(64, 64, 3), num_classes=10, classifier_activation=None,
                             kernel_initializer="he_uniform")
    randomize_batchnorm(model, seed=6)
    reference = copy_keras_to_torch(model, TorchGoogLeNet(10))
    assert sum(p.numel() for p in reference.parameters()) == models.count_trainable(model)
    x = np.random.default_rng(7).normal(size=(2, 64, 64, 3)).astype("float32")
    expected = reference(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).detach().numpy()
    assert np.abs(expected).max() > 1e-2
    assert_close(to_np(model(x, training=False)), expected, 1e-4)
