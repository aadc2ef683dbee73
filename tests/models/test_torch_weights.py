"""PyTorch state dicts into zoo models without PyTorch: .safetensors files, the key mapping, and the errors.

The state dicts here are written with numpy from a zoo model's own weights in PyTorch's layout (the
round trip), so these tests need no torch; the numerical parity against PyTorch models is in
test_torch_parity.py.
"""

import numpy as np
import pytest
from safetensors.numpy import save_file

from deepkit import models
from deepkit.models import torch_weights


def torch_state_dict(model, layout):
    return torch_weights.to_state_dict(model, layout)


@pytest.fixture(scope="module")
def resnet20():
    return models.create("cifar_resnet20", num_classes=10)


def test_keys_follow_the_pytorch_layouts():
    assert torch_weights.torch_key("resnet", "layer4_block1_conv2") == "layer4.1.conv2"
    assert torch_weights.torch_key("resnet", "layer3_block0_downsample_conv") == "layer3.0.downsample.0"
    assert torch_weights.torch_key("cifar_resnet", "layer3_block8_bn2") == "layer3.8.bn2"
    assert torch_weights.torch_key("googlenet", "conv3_bn") == "conv3.bn"
    assert torch_weights.torch_key("googlenet", "inception5b_branchpool_proj_conv") == "inception5b.branch4.1.conv"
    assert torch_weights.torch_key("googlenet", "aux2_fc1") == "aux2.fc1"
    assert torch_weights.torch_key("alexnet", "conv5") == "features.10"
    vgg = models.create("vgg11_bn", input_shape=(32, 32, 3), include_top=False)
    index = torch_weights.vgg_feature_indices(vgg)
    # torchvision vgg11_bn: Conv0 BN1 ReLU2 Pool3 Conv4 BN5 ReLU6 Pool7 Conv8 BN9 ReLU10 Conv11 ...
    assert [index[n] for n in ("block1_conv1", "block1_bn1", "block2_conv1", "block3_conv1", "block3_conv2")] == [
        "features.0", "features.1", "features.4", "features.8", "features.11"]


def test_safetensors_round_trip_lands_in_the_model(resnet20, tmp_path):
    state = torch_state_dict(resnet20, "cifar_resnet")
    assert "linear.weight" in state and "layer2.0.conv1.weight" in state
    rng = np.random.default_rng(0)
    state = {k: rng.normal(size=v.shape).astype("float32") for k, v in state.items()}
    path = str(tmp_path / "r20.safetensors")
    save_file(state, path)
    target = models.create("cifar_resnet20")
    kernel = target.get_layer("fc").kernel
    torch_weights.load_state_dict(target, path, "cifar_resnet")
    assert target.get_layer("fc").kernel is kernel  # assigned into the model's variable, not a copy
    np.testing.assert_array_equal(np.asarray(kernel), state["linear.weight"].T)
    np.testing.assert_array_equal(np.asarray(target.get_layer("layer1_block0_conv1").kernel),
                                  state["layer1.0.conv1.weight"].transpose(2, 3, 1, 0))
    bn = target.get_layer("layer3_block2_bn2")
    np.testing.assert_array_equal(np.asarray(bn.moving_variance), state["layer3.2.bn2.running_var"])


def test_nested_state_dict_and_module_prefix(resnet20, tmp_path):
    state = {f"module.{k}": v for k, v in torch_state_dict(resnet20, "cifar_resnet").items()}
    path = str(tmp_path / "dp.safetensors")
    save_file(state, path)
    assert set(torch_weights.read_state_dict(path)) == {k[len("module."):] for k in state}
    assert models.create("cifar_resnet20", weights=path).name == "cifar_resnet20"


def test_missing_extra_and_misshaped_keys_are_one_line_errors(resnet20, tmp_path):
    state = torch_state_dict(resnet20, "cifar_resnet")

    def attempt(changed, pattern):
        path = str(tmp_path / "bad.safetensors")
        save_file(changed, path)
        before = np.asarray(resnet20.get_layer("fc").kernel).copy()
        with pytest.raises(ValueError, match=pattern) as info:
            models.create("cifar_resnet20", weights=path)
        assert "\n" not in str(info.value)
        np.testing.assert_array_equal(np.asarray(resnet20.get_layer("fc").kernel), before)

    missing = dict(state)
    del missing["layer2.1.bn1.running_mean"]
    attempt(missing, r"bad\.safetensors: missing key 'layer2\.1\.bn1\.running_mean' \(shape \(32,\)\) for layer "
                     r"'layer2_block1_bn1'")
    extra = dict(state, **{"layer4.0.conv1.weight": np.zeros((8, 8, 3, 3), "float32")})
    attempt(extra, r"unexpected key 'layer4\.0\.conv1\.weight' \(shape \(8, 8, 3, 3\)\) has no layer")
    wrong = dict(state, **{"linear.weight": np.zeros((100, 64), "float32")})
    attempt(wrong, r"key 'linear\.weight' has shape \(100, 64\), layer 'fc' of model 'cifar_resnet20' needs "
                   r"\(10, 64\) \(Keras kernel \(64, 10\)\)")


def test_truncated_and_foreign_files(resnet20, tmp_path):
    path = str(tmp_path / "cut.safetensors")
    save_file(torch_state_dict(resnet20, "cifar_resnet"), path)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 3])
    with pytest.raises(ValueError, match=r"cut\.safetensors: not a readable \.safetensors file") as info:
        models.create("cifar_resnet20", weights=path)
    assert "\n" not in str(info.value)
    other = str(tmp_path / "lenet.safetensors")
    save_file({"x": np.zeros(2, "float32")}, other)
    with pytest.raises(ValueError, match="'lenet5' has no PyTorch counterpart"):
        models.create("lenet5", weights=other)
    with pytest.raises(ValueError, match="weights file not found"):
        models.create("resnet18", weights=str(tmp_path / "absent.pth"))


def test_batchnorm_epsilon_must_be_the_sources(resnet20, tmp_path):
    path = str(tmp_path / "r.safetensors")
    save_file(torch_state_dict(resnet20, "cifar_resnet"), path)
    with pytest.raises(ValueError, match=r"layer 'bn1' has BatchNorm epsilon 0\.001; .* trained with 1e-05"):
        models.create("cifar_resnet20", weights=path, bn_epsilon=1e-3)
