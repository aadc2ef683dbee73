"""The zoo's declarations: one @register_model per variant registers it, exports it as
deepkit.models.<name> and documents its published counts; the old tables stay readable."""

import pytest

import deepkit
from deepkit import models
from deepkit.models.registry import Family, register_model, unregister_model
from deepkit.models.resnet import CIFAR_RESNET, IMAGENET_RESNETS


def test_every_registered_model_is_exported_with_its_counts_in_its_docstring():
    assert set(models.builders()) == set(models.list_models())
    for name in models.list_models():
        fn = getattr(models, name)
        info = models.model_info(name)
        assert fn is models.builders()[name] and name in models.__all__
        assert fn.__module__ == f"deepkit.models.{info.family.replace('cifar_', '')}"
        assert f"{info.trainable_params:,} trainable parameters" in fn.__doc__
        assert "Args:" in fn.__doc__ and "Returns:" in fn.__doc__


def test_a_new_variant_is_one_declaration():
    @register_model(CIFAR_RESNET, n=1, trainable_params=75_290, macs=None, aliases=("resnet8",))
    def cifar_resnet8():
        """CIFAR-10 ResNet-8: 3 stages of 1 basic block."""

    try:
        assert "cifar_resnet8" in models.list_models() and models.resolve("resnet8") == "cifar_resnet8"
        model = cifar_resnet8()
        published = models.model_info("cifar_resnet8").trainable_params
        assert models.count_trainable(model) == published == 75_290  # 97,216 n - 21,926
        assert model.to_spec() == models.create("cifar_resnet8").to_spec()
    finally:
        unregister_model("cifar_resnet8")
    assert "cifar_resnet8" not in models.list_models()


def test_declaration_errors_are_clear():
    with pytest.raises(ValueError, match="'resnet50' is already registered"):
        @register_model(CIFAR_RESNET, n=1)
        def resnet50():
            """Taken."""
    with pytest.raises(TypeError, match="expected a Family or a ModelInfo"):
        register_model("resnet")


def test_old_tables_are_views_of_the_declarations():
    assert IMAGENET_RESNETS["resnet50"] == {"block": "bottleneck", "layers": (3, 4, 6, 3),
                                            "trainable_params": 25_557_032, "macs": 4_089_184_256}
    assert models.variants("cifar_resnet")["cifar_resnet1202"]["n"] == 200
    assert isinstance(CIFAR_RESNET, Family)


def test_both_resnet_families_share_one_stage_builder():
    import inspect

    from deepkit.models import resnet

    source = inspect.getsource(resnet)
    assert source.count("for b in range(") == 1  # the block loop, written once
    r20 = models.get_spec("cifar_resnet20", shortcut="B")
    block = r20["layers"][4]["sequential"]["layers"][0]["residual"]
    assert [next(iter(e.values()))["name"] for e in block["shortcut"]] == [
        "layer2_block0_downsample_conv", "layer2_block0_downsample_bn"]
    assert deepkit.models.count_trainable(models.create("cifar_resnet20", shortcut="B")) == 272_474
