"""The model zoo: the classic networks exactly as published, written as specs.

``create(name, ...)`` builds any of them by name (keras.applications-style arguments: ``input_shape``,
``num_classes``, ``include_top``, ``pooling``, ``classifier_activation``, ``weights=``, ``preprocessing=``),
and each has a plain function (``resnet50(...)``). Every model is a ``deepkit.Model`` whose ``to_spec()``
prints the network as data. ``load(ref)`` reads any model reference (zoo name, spec file, saved model,
weights file). Shipped weights (``available_weights(name)``): ``lenet5(weights="mnist")``, LeNet-5
trained by ``python -m deepkit.recipes lenet5_mnist`` (99.15 % validation; it takes raw uint8 digits).
``weights="imagenet"`` for AlexNet, VGG, GoogLeNet and the ImageNet ResNets: torchvision's published
checkpoints, downloaded once into Keras' cache and hash-checked (``deepkit.models.imagenet``); any PyTorch
state dict of these and of the CIFAR ResNets loads with ``weights="file.safetensors"`` / ``".pth"``
(``deepkit.models.torch_weights``), and ``decode_predictions`` names the top classes.

=====================  =======================================  =================  ============
family                 names                                    default input      classes
=====================  =======================================  =================  ============
LeNet-5 (1998)         lenet5, lenet5_paper                     28x28x1 (to 32)    10
AlexNet (2012)         alexnet, alexnet_paper, alexnet_small    224 / 227 / 32     1000 / 10
VGG (2014)             vgg11, 13, 16, 19, vgg11_bn ... 19_bn    224x224x3          1000
CIFAR VGG              cifar_vgg11, 13, 16, 19                  32x32x3            10
GoogLeNet (2014)       googlenet, googlenet_paper               224x224x3          1000
CIFAR GoogLeNet        cifar_googlenet                          32x32x3            10
ResNet (2015)          resnet18, 34, 50, 101, 152               224x224x3          1000
CIFAR ResNet (2015)    cifar_resnet20, 32, 44, 56, 110, 1202    32x32x3            10
=====================  =======================================  =================  ============

Example:
    >>> import deepkit
    >>> model = deepkit.models.create("lenet5")
    >>> deepkit.models.count_trainable(model)
    61706
    >>> "resnet50" in deepkit.models.list_models()
    True
"""

from deepkit.models.registry import (Family, ModelInfo, available_weights, builders, count_trainable, create,
                                     describe_weights, get_spec, list_models, load_weights, model_info,
                                     register_model, resolve, unregister_model, variants)
from deepkit.models import alexnet as _alexnet, googlenet as _googlenet, lenet as _lenet  # noqa: F401  (declare)
from deepkit.models import resnet as _resnet, vgg as _vgg  # noqa: F401  (declare the variants)
from deepkit.models.loading import ModelFileError, load
from deepkit.models.imagenet import decode_predictions, imagenet_classes

# Every variant declared with @register_model is exported here as deepkit.models.<name>.
globals().update(builders())

__all__ = [
    "create", "list_models", "get_spec", "model_info", "register_model", "unregister_model", "resolve", "ModelInfo",
    "Family", "builders", "variants", "count_trainable", "load_weights", "load", "available_weights",
    "ModelFileError", "describe_weights", "decode_predictions", "imagenet_classes", *builders(),
]
