"""PyTorch state dicts into zoo models: torchvision's AlexNet, VGG, GoogLeNet and ResNets, and the CIFAR ResNets.

deepkit names its layers like torchvision, so each PyTorch key maps to one weight of one named layer:

- ``resnet18`` ... ``resnet152``: ``layer2.0.conv1.weight`` -> ``layer2_block0_conv1`` kernel,
  ``layer2.0.downsample.1.running_mean`` -> ``layer2_block0_downsample_bn``;
- ``cifar_resnet20`` ...: ``conv1``, ``bn1``, ``layer{1,2,3}.{j}.conv1/bn1/conv2/bn2``, ``linear`` (the common
  PyTorch CIFAR ResNet, option A shortcuts: no weights);
- ``vgg11`` ... ``vgg19_bn``: ``features.{i}``, ``classifier.{0,3,6}`` -> ``block{b}_conv{j}`` (``_bn{j}``),
  ``fc1``, ``fc2``, ``predictions``;
- ``alexnet``: ``features.{0,3,6,8,10}``, ``classifier.{1,4,6}`` -> ``conv1`` ... ``conv5``, ``fc6`` ...;
- ``googlenet``: ``inception3a.branch2.1.conv.weight`` -> ``inception3a_branch3x3_conv`` (BasicConv2d's
  ``.conv`` / ``.bn`` -> ``_conv`` / ``_bn``).

Convolution kernels go from (out, in, kh, kw) to Keras' (kh, kw, in, out), linear weights are transposed,
and a linear layer after a ``Flatten`` has its input reordered from PyTorch's (C, H, W) to Keras' (H, W, C).
BatchNorm's ``weight``/``bias``/``running_mean``/``running_var`` become gamma/beta/moving mean/variance
(``num_batches_tracked`` is not a weight); the zoo's BatchNorm epsilon and momentum are torchvision's
(1e-5, or 1e-3 for GoogLeNet; momentum 0.1 = Keras 0.9), and a model built with another epsilon is refused.

Files: ``.safetensors`` (the ``safetensors`` package, numpy only: no torch, no pickle) and
``.pth``/``.pt``/``.th`` (``torch.load(weights_only=True)``, tensors only, where torch is installed). A
nested ``state_dict`` (``{"state_dict": ...}``, ``{"model": ...}``) and a ``module.`` prefix
(``DataParallel``) are unwrapped. A missing, extra or misshaped key is a one-line error naming the key,
both shapes and the layer. The weights are assigned into the model's own variables.

Example:
    >>> torch_key("resnet", "layer2_block0_downsample_bn")
    'layer2.0.downsample.1'
    >>> torch_key("cifar_resnet", "fc"), torch_key("googlenet", "inception4a_branch5x5_reduce_bn")
    ('linear', 'inception4a.branch3.0.bn')
"""

import os
import re

import numpy as np

__all__ = ["read_state_dict", "load_state_dict", "to_state_dict", "torch_key", "has_pytorch_layout",
           "unused_prefixes", "vgg_feature_indices",
           "STATE_DICT_SUFFIXES"]

STATE_DICT_SUFFIXES = (".safetensors", ".pth", ".pt", ".th")
_NESTED = ("state_dict", "model_state_dict", "model", "net")
_BN_SLOTS = ("weight", "bias", "running_mean", "running_var")
_GOOGLENET_BRANCH = {"branch1x1": "branch1", "branch3x3_reduce": "branch2.0", "branch3x3": "branch2.1",
                     "branch5x5_reduce": "branch3.0", "branch5x5": "branch3.1", "branchpool_proj": "branch4.1"}
_ALEXNET = {"conv1": "features.0", "conv2": "features.3", "conv3": "features.6", "conv4": "features.8",
            "conv5": "features.10", "fc6": "classifier.1", "fc7": "classifier.4", "fc8": "classifier.6"}
_VGG_TOP = {"fc1": "classifier.0", "fc2": "classifier.3", "predictions": "classifier.6"}
# Zoo models with a PyTorch counterpart (registry name -> layout).
_LAYOUT = {"alexnet": "alexnet", "googlenet": "googlenet"}
_LAYOUT_FAMILIES = ("resnet", "cifar_resnet", "vgg")
# The classifier's keys per layout (not weights of a model built with include_top=False).
_HEAD = {"resnet": ("fc.",), "cifar_resnet": ("linear.",), "vgg": ("classifier.",), "alexnet": ("classifier.",),
         "googlenet": ("fc.", "aux1.", "aux2.")}
# torchvision's BatchNorm epsilon per layout.
_EPSILON = {"resnet": 1e-5, "cifar_resnet": 1e-5, "vgg": 1e-5, "googlenet": 1e-3}


def has_pytorch_layout(info):
    """The PyTorch layout of a zoo model (``"resnet"``, ``"vgg"``...), or None when it has no counterpart.

    Args:
        info: a ``ModelInfo``.

    Returns:
        A layout name or None.

    Example:
        >>> from deepkit.models import model_info
        >>> has_pytorch_layout(model_info("vgg16_bn")), has_pytorch_layout(model_info("alexnet_paper"))
        ('vgg', None)
    """
    if info.family in _LAYOUT_FAMILIES:
        return info.family
    return _LAYOUT.get(info.name)


def torch_key(layout, layer_name, vgg_index=None):
    """The PyTorch module path of a deepkit layer in a layout.

    Args:
        layout: ``"resnet"``, ``"cifar_resnet"``, ``"vgg"``, ``"alexnet"`` or ``"googlenet"``.
        layer_name: the deepkit layer name.
        vgg_index: for VGG, a dict ``layer name -> features index`` (:func:`_vgg_indices`).

    Returns:
        The module path (``"layer1.0.conv1"``), or None for a layer with no PyTorch counterpart.

    Example:
        >>> torch_key("alexnet", "fc6"), torch_key("resnet", "bn1")
        ('classifier.1', 'bn1')
    """
    if layout in ("resnet", "cifar_resnet"):
        if layer_name == "fc":
            return "linear" if layout == "cifar_resnet" else "fc"
        if layer_name in ("conv1", "bn1"):
            return layer_name
        match = re.fullmatch(r"layer(\d)_block(\d+)_(conv\d|bn\d|downsample_conv|downsample_bn)", layer_name)
        if not match:
            return None
        part = {"downsample_conv": "downsample.0", "downsample_bn": "downsample.1"}.get(match[3], match[3])
        return f"layer{match[1]}.{match[2]}.{part}"
    if layout == "alexnet":
        return _ALEXNET.get(layer_name)
    if layout == "vgg":
        return _VGG_TOP.get(layer_name) or (vgg_index or {}).get(layer_name)
    if layout == "googlenet":
        match = re.fullmatch(r"(conv\d|aux\d)(_bn|_conv)?", layer_name)
        if match and match[1].startswith("conv"):
            return f"{match[1]}.{'bn' if match[2] == '_bn' else 'conv'}"
        if match:
            return f"{match[1]}.conv.{'bn' if match[2] == '_bn' else 'conv'}"
        match = re.fullmatch(r"(aux\d)_(fc\d)", layer_name)
        if match:
            return f"{match[1]}.{match[2]}"
        match = re.fullmatch(r"(inception\d[a-e])_(branch\w+?)_(conv|bn)", layer_name)
        if match and match[2] in _GOOGLENET_BRANCH:
            return f"{match[1]}.{_GOOGLENET_BRANCH[match[2]]}.{match[3]}"
        return "fc" if layer_name == "fc" else None
    raise ValueError(f"torch_weights: unknown layout {layout!r}")


def vgg_feature_indices(model):
    """torchvision's ``features`` index of each VGG convolution (and BatchNorm): Conv, [BN], ReLU per
    convolution, a MaxPool per block.

    Args:
        model: a zoo VGG.

    Returns:
        A dict ``layer name -> "features.<i>"``.

    Example:
        >>> from deepkit.models import create
        >>> index = vgg_feature_indices(create("vgg11", input_shape=(32, 32, 3), include_top=False))
        >>> index["block1_conv1"], index["block2_conv1"], index["block3_conv2"]
        ('features.0', 'features.3', 'features.8')
    """
    convs = sorted((int(m[1]), int(m[2])) for m in (re.fullmatch(r"block(\d)_conv(\d+)", layer.name)
                                                     for layer in model.layers) if m)
    names = {layer.name for layer in model.layers}
    index, out, block = 0, {}, None
    for b, i in convs:
        if block is not None and b != block:
            index += 1  # the MaxPool closing the previous block
        block = b
        out[f"block{b}_conv{i}"] = f"features.{index}"
        index += 1
        if f"block{b}_bn{i}" in names:
            out[f"block{b}_bn{i}"] = f"features.{index}"
            index += 1
        index += 1  # ReLU
    return out


def unused_prefixes(model, layout, include_top=True):
    """Keys of a full checkpoint that a model leaves out: the classifier without ``include_top``, GoogLeNet's
    auxiliary classifiers without ``aux_logits``.

    Args:
        model: the zoo model.
        layout: its PyTorch layout.
        include_top: whether the model has its classifier.

    Returns:
        A tuple of key prefixes.

    Example:
        >>> from deepkit.models import create
        >>> unused_prefixes(create("cifar_resnet20", include_top=False), "cifar_resnet", include_top=False)
        ('linear.',)
    """
    if not include_top:
        return _HEAD[layout]
    names = {layer.name for layer in model.layers}
    return tuple(p for p in ("aux1.", "aux2.") if layout == "googlenet" and p[:-1] + "_fc1" not in names)


def read_state_dict(path):
    """A PyTorch state dict from a file, as ``{key: numpy array}``; tensors only, nothing else unpickled.

    Args:
        path: a ``.safetensors`` file (read with the ``safetensors`` package, no torch) or a
            ``.pth``/``.pt``/``.th`` file (``torch.load(weights_only=True)``; needs torch).

    Returns:
        A flat dict; a nested ``state_dict``/``model`` entry and a ``module.`` prefix are unwrapped.

    Raises:
        ValueError: missing, truncated or unreadable file, or no tensors in it (one line naming the file).
        ImportError: a ``.pth`` file without torch installed.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> from safetensors.numpy import save_file
        >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
        >>> save_file({"module.fc.weight": np.zeros((2, 3), "float32")}, path)
        >>> {k: v.shape for k, v in read_state_dict(path).items()}
        {'fc.weight': (2, 3)}
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{path}: state dict file not found")
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".safetensors":
        loaded = _read_safetensors(path)
    elif suffix in (".pth", ".pt", ".th"):
        from deepkit.backend.torch_checkpoint import load_torch_checkpoint

        loaded = load_torch_checkpoint(path)
    else:
        raise ValueError(f"{path}: a PyTorch state dict must be a {', '.join(STATE_DICT_SUFFIXES)} file. "
                         f"Received: suffix {suffix!r}")
    return _flatten(path, loaded)


def _read_safetensors(path):
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise ImportError(f"{path}: reading .safetensors needs the safetensors package "
                          "(pip install safetensors)") from None
    try:
        return load_file(path)
    except Exception as exc:  # SafetensorError: truncated header or data, bad JSON
        raise ValueError(f"{path}: not a readable .safetensors file (truncated or damaged): "
                         f"{' '.join(str(exc).split())}") from None


def _flatten(path, loaded):
    for _ in range(3):  # {"state_dict": {...}}, {"model": {"state_dict": ...}}
        if isinstance(loaded, dict) and not any(isinstance(v, np.ndarray) for v in loaded.values()):
            nested = next((loaded[k] for k in _NESTED if isinstance(loaded.get(k), dict)), None)
            if nested is None:
                break
            loaded = nested
    if not isinstance(loaded, dict) or not any(isinstance(v, np.ndarray) for v in loaded.values()):
        kind = type(loaded).__name__ if not isinstance(loaded, dict) else f"dict with keys {list(loaded)[:5]}"
        raise ValueError(f"{path}: no state dict (tensors by name) in the file. Received: {kind}")
    tensors = {k: v for k, v in loaded.items() if isinstance(v, np.ndarray)}
    if tensors and all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module."):]: v for k, v in tensors.items()}
    return tensors


def _torch_shape(kind, keras_shape):
    """The PyTorch shape of a Keras weight: conv kernel (kh, kw, in, out) -> (out, in, kh, kw), dense transposed."""
    if kind == "conv":
        kh, kw, cin, cout = keras_shape
        return (cout, cin, kh, kw)
    if kind == "dense":
        return tuple(reversed(keras_shape))
    return tuple(keras_shape)


def _convert(kind, value, keras_shape, flatten_hwc):
    if kind == "conv":
        return np.transpose(value, (2, 3, 1, 0))
    if kind == "dense":
        if flatten_hwc is not None:
            h, w, c = flatten_hwc
            return value.reshape(value.shape[0], c, h, w).transpose(2, 3, 1, 0).reshape(h * w * c, value.shape[0])
        return value.T
    return value


def _targets(model, layout):
    """(PyTorch key, layer, variable, kind) for every weight of the model, in layer order; a Dense kernel's
    kind is ``("dense", (H, W, C) of the Flatten before it or None)``."""
    import keras

    vgg_index = vgg_feature_indices(model) if layout == "vgg" else None
    out, flatten = [], None
    for layer in model.layers:
        if isinstance(layer, keras.layers.Flatten):  # the next Dense reads its (H, W, C) map
            shape = tuple(layer.input.shape[1:])
            flatten = shape if len(shape) == 3 else None
        if not layer.weights or isinstance(layer, (keras.layers.Normalization, keras.layers.Rescaling)):
            continue
        prefix = torch_key(layout, layer.name, vgg_index)
        if prefix is None:
            raise ValueError(f"load_state_dict: layer {layer.name!r} of model {model.name!r} has no PyTorch "
                             f"counterpart in the {layout} layout")
        if isinstance(layer, keras.layers.BatchNormalization):
            expected = _EPSILON[layout]
            if abs(layer.epsilon - expected) > 1e-12:
                raise ValueError(f"load_state_dict: layer {layer.name!r} has BatchNorm epsilon {layer.epsilon}; "
                                 f"the PyTorch weights were trained with {expected} (build the model with "
                                 f"bn_epsilon={expected}). Received: epsilon={layer.epsilon}")
            variables = [layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance]
            out += [(f"{prefix}.{slot}", layer, v, "bn") for slot, v in zip(_BN_SLOTS, variables)]
        elif isinstance(layer, keras.layers.Conv2D):
            out.append((f"{prefix}.weight", layer, layer.kernel, "conv"))
            if layer.use_bias:
                out.append((f"{prefix}.bias", layer, layer.bias, "bias"))
        elif isinstance(layer, keras.layers.Dense):
            out.append((f"{prefix}.weight", layer, layer.kernel, ("dense", flatten)))
            flatten = None
            if layer.use_bias:
                out.append((f"{prefix}.bias", layer, layer.bias, "bias"))
        else:
            raise ValueError(f"load_state_dict: layer {layer.name!r} ({type(layer).__name__}) has weights deepkit "
                             "does not know how to take from PyTorch")
    return out


def to_state_dict(model, layout):
    """A zoo model's weights as a PyTorch state dict (numpy arrays under PyTorch's keys and shapes).

    Args:
        model: a zoo model with a PyTorch layout.
        layout: its layout (:func:`has_pytorch_layout`).

    Returns:
        A dict ``{key: array}`` that :func:`load_state_dict` (and the PyTorch model's ``load_state_dict``,
        after ``torch.from_numpy``) takes back.

    Example:
        >>> from deepkit.models import create
        >>> state = to_state_dict(create("cifar_resnet20"), "cifar_resnet")
        >>> state["conv1.weight"].shape, state["linear.weight"].shape
        ((16, 3, 3, 3), (10, 64))
    """
    out = {}
    for key, _, variable, kind in _targets(model, layout):
        kind, flat = kind if isinstance(kind, tuple) else (kind, None)
        value = np.asarray(variable)
        if kind == "conv":
            value = value.transpose(3, 2, 0, 1)
        elif kind == "dense" and flat is not None:
            h, w, c = flat
            value = value.reshape(h, w, c, -1).transpose(3, 2, 0, 1).reshape(value.shape[1], -1)
        elif kind == "dense":
            value = value.T
        out[key] = np.ascontiguousarray(value)
    return out


def load_state_dict(model, state_dict, layout, source="state dict", ignore_prefixes=()):
    """Assign a PyTorch state dict to a zoo model's own variables, checking every key and shape first.

    Args:
        model: a zoo model of that layout (``deepkit.models.resnet18(...)``).
        state_dict: ``{key: array}`` (:func:`read_state_dict`), or the path of a state dict file.
        layout: ``"resnet"``, ``"cifar_resnet"``, ``"vgg"``, ``"alexnet"`` or ``"googlenet"``
            (:func:`has_pytorch_layout`).
        source: what to call the state dict in errors (the file name).
        ignore_prefixes: keys starting with these are not weights of this model (GoogLeNet's ``aux1.``
            and ``aux2.`` when the model has no auxiliary classifiers).

    Returns:
        The model.

    Raises:
        ValueError: a missing, extra or misshaped key (one line: key, both shapes, layer); nothing is
            assigned then.

    Example:
        >>> from deepkit.models import create
        >>> model = create("cifar_resnet20", num_classes=2)
        >>> load_state_dict(model, {}, "cifar_resnet")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: state dict: missing key 'conv1.weight' (shape (16, 3, 3, 3)) for layer 'conv1' ...
    """
    if isinstance(state_dict, (str, os.PathLike)):
        source = os.fspath(state_dict)
        state_dict = read_state_dict(state_dict)
    targets = _targets(model, layout)
    wanted = {key for key, *_ in targets}
    updates = []
    for key, layer, variable, kind in targets:
        keras_shape = tuple(variable.shape)
        kind, flat = kind if isinstance(kind, tuple) else (kind, None)
        expect = _torch_shape(kind, keras_shape)
        if key not in state_dict:
            raise ValueError(f"{source}: missing key {key!r} (shape {expect}) for layer {layer.name!r} of model "
                             f"{model.name!r}; {len(state_dict)} keys in the file, {len(wanted)} expected")
        value = np.asarray(state_dict[key])
        if tuple(value.shape) != expect:
            raise ValueError(f"{source}: key {key!r} has shape {tuple(value.shape)}, layer {layer.name!r} of model "
                             f"{model.name!r} needs {expect} (Keras {variable.path.split('/')[-1]} {keras_shape}); "
                             "build the model with the checkpoint's input size and number of classes")
        updates.append((variable, _convert(kind, value.astype("float32"), keras_shape, flat)))
    extra = sorted(k for k in state_dict if k not in wanted and not k.endswith("num_batches_tracked")
                   and not k.startswith(tuple(ignore_prefixes)))
    if extra:
        raise ValueError(f"{source}: unexpected key {extra[0]!r} (shape {tuple(np.shape(state_dict[extra[0]]))}) "
                         f"has no layer in model {model.name!r}" + (f" (and {len(extra) - 1} more)" if len(extra) > 1
                                                                   else ""))
    for variable, value in updates:
        variable.assign(value)
    return model
