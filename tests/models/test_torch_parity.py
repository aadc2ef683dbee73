"""PyTorch checkpoints into zoo models compute what the PyTorch models compute (logit parity).

torchvision is not importable beside the torch installed here, so the reference modules below are written
after torchvision's definitions (``torchvision/models/alexnet.py``, ``vgg.py``, ``googlenet.py``,
``resnet.py``) with the same module names, hence the same state-dict keys, and the CIFAR ResNet after the
common PyTorch CIFAR ResNet (``conv1``, ``bn1``, ``layer{1,2,3}.{j}``, ``linear``; option A shortcuts:
``F.pad(x[:, :, ::2, ::2], ...)``), He et al. section 4.2. Each test draws the PyTorch model's weights and
BatchNorm statistics with a fixed seed, saves its ``state_dict()`` as ``.pth`` or ``.safetensors``, loads
the file with ``deepkit.models.create(name, weights=path)`` and compares logits on the same inputs.

Planted errors in deepkit/models/torch_weights.py, each run against one test and reverted: the Flatten
reorder (C, H, W) -> (H, W, C) left out of ``_convert`` (``test_logit_parity[alexnet-...]`` failed); the
conv kernel transposed as (3, 2, 1, 0) instead of (2, 3, 1, 0) (``test_logit_parity[cifar_resnet20-...]``
failed: same shapes, wrong values); VGG's features index not skipping the ReLU
(``test_vgg_features_parity_at_small_size[vgg11_bn]`` failed).
"""

import numpy as np
import pytest

from deepkit import models

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

pytestmark = pytest.mark.timeout(900)


# ----------------------------------------------------------------------------- reference modules (torchvision)

class AlexNet(nn.Module):
    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


VGG_CFGS = {"vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
            "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
            "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
            "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
                      512, 512, 512, 512, "M"]}


class VGG(nn.Module):
    def __init__(self, cfg, batch_norm, num_classes=1000, width=4096):
        super().__init__()
        layers, cin = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers.append(nn.Conv2d(cin, v, kernel_size=3, padding=1))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(v))
                layers.append(nn.ReLU(inplace=True))
                cin = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, width), nn.ReLU(True), nn.Dropout(), nn.Linear(width, width), nn.ReLU(True),
            nn.Dropout(), nn.Linear(width, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    def __init__(self, cin, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(cin, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(BasicConv2d(cin, ch3x3red, kernel_size=1),
                                     BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(cin, ch5x5red, kernel_size=1),  # torchvision's 3x3 "5x5"
                                     BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                     BasicConv2d(cin, pool_proj, kernel_size=1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    def __init__(self, cin, num_classes):
        super().__init__()
        self.conv = BasicConv2d(cin, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)


class GoogLeNet(nn.Module):
    """torchvision's GoogLeNet with aux_logits=True (its checkpoint holds aux1/aux2) and transform_input=False."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.aux1 = InceptionAux(512, num_classes)
        self.aux2 = InceptionAux(528, num_classes)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=0.2)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):  # eval mode: the auxiliary classifiers are not run
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        for name in ("4a", "4b", "4c", "4d", "4e"):
            x = getattr(self, f"inception{name}")(x)
        x = self.inception5b(self.inception5a(self.maxpool4(x)))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)  # v1.5: the stride in the 3x3
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn3(self.conv3(F.relu(self.bn2(self.conv2(out)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class CifarBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if (stride != 1 or in_planes != planes) else None

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        short = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))  # option A
        return F.relu(out + short)


class CifarResNet(nn.Module):
    def __init__(self, n, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        planes, layers = 16, []
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for j in range(n):
                blocks.append(CifarBlock(planes, width, stride if j == 0 else 1))
                planes = width
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        return self.linear(F.avg_pool2d(x, x.size()[3]).flatten(1))


# ----------------------------------------------------------------------------- the comparisons

RESNETS = {"resnet18": (BasicBlock, (2, 2, 2, 2)), "resnet34": (BasicBlock, (3, 4, 6, 3)),
           "resnet50": (Bottleneck, (3, 4, 6, 3)), "resnet101": (Bottleneck, (3, 4, 23, 3)),
           "resnet152": (Bottleneck, (3, 8, 36, 3))}
CIFAR_N = {"cifar_resnet20": 3, "cifar_resnet32": 5, "cifar_resnet44": 7, "cifar_resnet56": 9,
           "cifar_resnet110": 18, "cifar_resnet1202": 200}


def reference(name, num_classes, vgg_width=64):
    torch.manual_seed(0)
    if name == "alexnet":
        return AlexNet(num_classes)
    if name.startswith("vgg"):
        return VGG(VGG_CFGS[name.replace("_bn", "")], name.endswith("_bn"), num_classes, vgg_width)
    if name == "googlenet":
        return GoogLeNet(num_classes)
    if name in RESNETS:
        return ResNet(*RESNETS[name], num_classes=num_classes)
    return CifarResNet(CIFAR_N[name], num_classes)


def randomize(module, seed=1):
    """Non-trivial BatchNorm statistics and biases (fixed seed), so inference is not the identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            elif isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.05)
    return module.eval()


def save(module, path):
    state = module.state_dict()
    if path.endswith(".safetensors"):
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, path)
    else:
        torch.save(state, path)
    return path


def parity(name, size, tmp_path, fmt, num_classes=10, **options):
    """(max |logit difference|, argmax agreement, max |logit|) of the converted model against the reference."""
    ref = randomize(reference(name, num_classes, options.get("fc_units", 64)))
    path = save(ref, str(tmp_path / f"{name}.{fmt}"))
    model = models.create(name, input_shape=(size, size, 3), num_classes=num_classes, classifier_activation=None,
                          weights=path, **options)
    x = np.random.default_rng(2).normal(size=(2, size, size, 3)).astype("float32")
    with torch.no_grad():
        expected = ref(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    got = np.asarray(model(x, training=False))
    diff = float(np.abs(got - expected).max())
    return diff, bool((got.argmax(1) == expected.argmax(1)).all()), float(np.abs(expected).max())


def check(result):
    diff, agree, scale = result
    assert scale > 1e-2  # a meaningful comparison, not two near-zero outputs
    assert diff <= 1e-4 * max(1.0, scale), result
    assert agree, result


SLOW = pytest.mark.slow
# Every layout family runs here (the deeper variants of a family only repeat its blocks and key names:
# one deeper model per family is checked, slow); benchmarks/parity_table.py measures all 21 models.


@pytest.mark.parametrize("name,size,fmt", [
    ("cifar_resnet20", 32, "pth"),
    ("cifar_resnet32", 32, "safetensors"),
    pytest.param("cifar_resnet56", 32, "safetensors", marks=SLOW),
    ("resnet18", 64, "safetensors"),
    ("resnet34", 64, "pth"),
    ("resnet50", 64, "safetensors"),
    pytest.param("resnet101", 64, "pth", marks=SLOW),
    ("googlenet", 64, "pth"),
    ("alexnet", 64, "safetensors"),
])
def test_logit_parity(name, size, fmt, tmp_path):
    check(parity(name, size, tmp_path, fmt))


# VGG's classifier follows a 7x7x512 map (torchvision's adaptive pool is the identity there): 224x224.
@pytest.mark.parametrize("name,fmt", [
    ("vgg11", "pth"),
    pytest.param("vgg16_bn", "safetensors", marks=SLOW),
])
def test_vgg_logit_parity(name, fmt, tmp_path):
    check(parity(name, 224, tmp_path, fmt, fc_units=64))


@pytest.mark.parametrize("name", ["vgg11_bn", "vgg16", "vgg19_bn"])
def test_vgg_features_parity_at_small_size(name, tmp_path):
    """Every VGG features layout at 32x32 (include_top=False: the classifier's keys are not this model's)."""
    ref = randomize(reference(name, 10))
    path = save(ref, str(tmp_path / f"{name}.safetensors"))
    model = models.create(name, input_shape=(32, 32, 3), include_top=False, weights=path)
    x = np.random.default_rng(3).normal(size=(2, 32, 32, 3)).astype("float32")
    with torch.no_grad():
        expected = ref.features(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy().transpose(0, 2, 3, 1)
    got = np.asarray(model(x, training=False))
    assert np.abs(expected).max() > 1e-2
    assert np.abs(got - expected).max() <= 1e-4 * max(1.0, float(np.abs(expected).max()))


def test_pth_and_safetensors_give_the_same_model_and_nested_checkpoints_load(tmp_path):
    ref = randomize(reference("cifar_resnet20", 10))
    a = models.create("cifar_resnet20", weights=save(ref, str(tmp_path / "r.pth")))
    b = models.create("cifar_resnet20", weights=save(ref, str(tmp_path / "r.safetensors")))
    nested = str(tmp_path / "nested.pth")  # a training checkpoint of a DataParallel model
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in ref.state_dict().items()}}, nested)
    c = models.create("cifar_resnet20", weights=nested)
    for w_a, w_b, w_c in zip(a.weights, b.weights, c.weights):
        np.testing.assert_array_equal(np.asarray(w_a), np.asarray(w_b))
        np.testing.assert_array_equal(np.asarray(w_a), np.asarray(w_c))


def test_a_pickle_that_would_run_code_is_refused_without_running(tmp_path):
    marker = tmp_path / "ran.txt"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = str(tmp_path / "evil.pth")
    torch.save({"conv1.weight": torch.zeros(16, 3, 3, 3), "payload": Payload()}, path)
    assert not marker.exists()
    with pytest.raises(ValueError, match=r"evil\.pth: cannot read the PyTorch checkpoint.*refused"):
        models.create("cifar_resnet20", weights=path)
    assert not marker.exists()  # nothing ran


def test_truncated_pth_is_one_line(tmp_path):
    path = save(randomize(reference("cifar_resnet20", 10)), str(tmp_path / "r.pth"))
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"r\.pth: cannot read the PyTorch checkpoint") as info:
        models.create("cifar_resnet20", weights=path)
    assert "\n" not in str(info.value)
