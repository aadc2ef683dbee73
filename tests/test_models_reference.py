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


def test_conversion_errors():
    with pytest.raises(ValueError, match="must be keras.applications.ResNet50"):
        convert.from_keras_applications(models.cifar_resnet20())


# ----------------------------------------------------------------------------- PyTorch references

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


class TorchResNet(nn.Module):
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
