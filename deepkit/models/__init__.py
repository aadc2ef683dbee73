"""The model zoo: the classic networks exactly as published, written as specs.

``create(name, ...)`` builds any of them by name (keras.applications-style arguments: ``input_shape``,
``num_classes``, ``include_top``, ``pooling``, ``classifier_activation``, ``weights=<local file>``), and
each has a plain function (``resnet50(...)``). Every model is a ``deepkit.Model`` whose ``to_spec()``
prints the network as data.

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

import deepkit.layers  # noqa: F401  (registers LRN, ChannelPadShortcut... for the specs below)
from deepkit.models.registry import (ModelInfo, count_trainable, create, get_spec, list_models, load_weights,
                                     model_info, register_model, resolve)
from deepkit.models.lenet import lenet5, lenet5_paper
from deepkit.models.alexnet import alexnet, alexnet_paper, alexnet_small
from deepkit.models.resnet import (cifar_resnet20, cifar_resnet32, cifar_resnet44, cifar_resnet56, cifar_resnet110,
                                   cifar_resnet1202, resnet18, resnet34, resnet50, resnet101, resnet152)
from deepkit.models.vgg import (cifar_vgg11, cifar_vgg13, cifar_vgg16, cifar_vgg19, vgg11, vgg11_bn, vgg13, vgg13_bn,
                                vgg16, vgg16_bn, vgg19, vgg19_bn)
from deepkit.models.googlenet import cifar_googlenet, googlenet, googlenet_paper

__all__ = [
    "create", "list_models", "get_spec", "model_info", "register_model", "resolve", "ModelInfo", "count_trainable",
    "load_weights", "lenet5", "lenet5_paper", "alexnet", "alexnet_paper", "alexnet_small",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "cifar_resnet20", "cifar_resnet32", "cifar_resnet44", "cifar_resnet56", "cifar_resnet110", "cifar_resnet1202",
    "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
    "cifar_vgg11", "cifar_vgg13", "cifar_vgg16", "cifar_vgg19", "googlenet", "googlenet_paper", "cifar_googlenet",
]
