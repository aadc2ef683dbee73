"""The zoo's declarations: one @register_model per variant registers it, exports it as
deepkit.models.<name> and documents its published counts; each builder is an ordinary function with
its own signature and body."""

import inspect

import pytest

import deepkit
from deepkit import models
from deepkit.models.registry import COMMON_ARGS, Family, register_model, unregister_model
from deepkit.models.resnet import CIFAR_RESNET


def test_every_registered_model_is_exported_with_its_counts_in_its_docstring():
    assert set(models.builders()) == set(models.list_models())
    for name in models.list_models():
        fn = getattr(models, name)
        info = models.model_info(name)
        assert fn is models.builders()[name] and name in models.__all__
        assert fn.__module__ == f"deepkit.models.{info.family.replace('cifar_', '')}"
        assert f"{info.trainable_params:,} trainable parameters" in fn.__doc__
        assert "Args:" in fn.__doc__ and "Returns:" in fn.__doc__


@pytest.mark.backend_independent
def test_every_builder_shows_its_parameters_and_its_own_body():
    for name in models.list_models():
        fn = models.builders()[name]
        params = inspect.signature(fn).parameters
        assert list(params)[:2] == ["input_shape", "num_classes"], name
        assert set(COMMON_ARGS) <= set(params), name
        assert not any(p.kind is p.VAR_KEYWORD for p in params.values()), name  # nothing hides in **kwargs
        options = {k: p.default for k, p in params.items() if k not in COMMON_ARGS}
        assert options == models.model_info(name).options, name  # the options are read from the signature
        source = inspect.getsource(fn)
        assert source.lstrip().startswith("@register_model(") and f"def {name}(" in source, name
        assert f'return create("{name}", **locals())' in source, name
        assert fn.__code__.co_filename == inspect.getfile(inspect.getmodule(fn)), name


@pytest.mark.backend_independent
def test_spec_builders_take_their_row_from_the_declaration():
    from deepkit.models import googlenet, resnet, vgg

    for module in (resnet, vgg, googlenet):  # no table read back from the registry
        source = inspect.getsource(module)
        assert "variants(" not in source and "RESNETS" not in source and "VGGS" not in source
    assert models.model_info("resnet50").arch == {"block": "bottleneck", "layers": (3, 4, 6, 3)}
    assert models.variants("cifar_resnet")["cifar_resnet1202"]["n"] == 200


def test_a_new_variant_is_one_declaration():
    @register_model(CIFAR_RESNET, n=1, trainable_params=75_290, macs=None, aliases=("resnet8",))
    def cifar_resnet8(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                      classifier_activation="softmax", weights=None, model_name=None, preprocessing=None,
                      shortcut="A"):
        """CIFAR-10 ResNet-8: 3 stages of 1 basic block."""
        return models.create("cifar_resnet8", **locals())

    try:
        assert "cifar_resnet8" in models.list_models() and models.resolve("resnet8") == "cifar_resnet8"
        assert models.model_info("cifar_resnet8").options == {"shortcut": "A"}
        model = cifar_resnet8()
        published = models.model_info("cifar_resnet8").trainable_params
        assert models.count_trainable(model) == published == 75_290  # 97,216 n - 21,926
        assert model.to_spec() == models.create("cifar_resnet8").to_spec()
        with pytest.raises(ValueError, match="unknown argument 'bn_epsilon'"):
            models.create("cifar_resnet8", bn_epsilon=1e-3)  # not in its signature
    finally:
        unregister_model("cifar_resnet8")
    assert "cifar_resnet8" not in models.list_models()


def test_declaration_errors_are_clear():
    with pytest.raises(ValueError, match="'resnet50' is already registered"):
        @register_model(CIFAR_RESNET, n=1)
        def resnet50(input_shape=None, num_classes=None, *, include_top=True, pooling=None,
                     classifier_activation="softmax", weights=None, model_name=None, preprocessing=None):
            """Taken."""
    with pytest.raises(TypeError, match="expected a Family or a ModelInfo"):
        register_model("resnet")
    with pytest.raises(TypeError, match=r"must take every common argument .* Missing: include_top, pooling"):
        @register_model(CIFAR_RESNET, n=1)
        def cifar_resnet_bare(input_shape=None, num_classes=None, **kwargs):
            """Hides its arguments."""
    assert "cifar_resnet_bare" not in models.list_models()
    assert isinstance(CIFAR_RESNET, Family)


def test_both_resnet_families_share_one_stage_builder():
    from deepkit.models import resnet

    source = inspect.getsource(resnet)
    assert source.count("for b in range(") == 1  # the block loop, written once
    r20 = models.get_spec("cifar_resnet20", shortcut="B")
    block = r20["layers"][4]["sequential"]["layers"][0]["residual"]
    assert [next(iter(e.values()))["name"] for e in block["shortcut"]] == [
        "layer2_block0_downsample_conv", "layer2_block0_downsample_bn"]
    assert deepkit.models.count_trainable(models.create("cifar_resnet20", shortcut="B")) == 272_474
