"""The registry is the one description of every attribution method: a dummy method registered
in a test is seen by the package exports, ``deepkit.viz``, the report's lists, the callback and
``noise_tunnel``, with no other file edited."""

import keras
import numpy as np
import pytest

from deepkit import viz
from deepkit.viz import attribution as A
from deepkit.viz.attribution import registry


def _model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((6, 6, 2)),
        keras.layers.Conv2D(3, 3, activation="tanh", name="conv"),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax"),
    ])


def _images(n=3):
    return np.random.default_rng(0).random((n, 6, 6, 2)).astype("float32")


@pytest.fixture
def dummy():
    """A gradient-family method written as one decorated function (saliency under another name)."""

    @registry.register("gradient", title="Dummy gradient", report={"reduce": "abs_sum"},
                       in_report=True, order=50)
    def dummy_gradient(model, images, class_index=None, *, reduce="max_abs", batch_size=64):
        return A.saliency(model, images, class_index, reduce=reduce, batch_size=batch_size)

    yield dummy_gradient
    registry.unregister("dummy_gradient")


def test_a_registered_method_is_seen_everywhere(dummy):
    assert "dummy_gradient" in A.list_methods() and "dummy_gradient" in A.list_methods("gradient")
    assert A.dummy_gradient is dummy and viz.dummy_gradient is dummy
    assert "dummy_gradient" in viz.__all__ and "dummy_gradient" in dir(viz)
    assert "dummy_gradient" in registry.report_methods()
    assert registry.report_options("dummy_gradient", batch_size=8) == {"reduce": "abs_sum", "batch_size": 8}
    assert "dummy_gradient" in registry.tunnel_methods()
    rec = viz.VisualizationRecorder(_images(), record=["dummy_gradient"])
    model = _model()
    rec.set_model(model)
    rec.on_train_begin()
    np.testing.assert_array_equal(rec.records["dummy_gradient"][0],
                                  A.saliency(model, _images(), reduce="abs_sum"))


@pytest.mark.parametrize("kind", ["smoothgrad", "smoothgrad_sq", "vargrad"])
def test_noise_tunnel_takes_any_gradient_method(dummy, kind):
    # The generic route (the method attributes every noisy copy) equals the fast route of
    # saliency's path on the same noise.
    model, x = _model(), _images()
    got = A.noise_tunnel("dummy_gradient", model, x, num_samples=4, kind=kind, seed=1)
    want = A.noise_tunnel(A.saliency, model, x, num_samples=4, kind=kind, seed=1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_report_defaults_and_titles():
    assert registry.report_methods() == ("saliency", "smoothgrad", "integrated_gradients", "grad_cam",
                                        "grad_cam_plus_plus", "score_cam", "occlusion")
    assert registry.report_options("occlusion", np.zeros((1, 32, 32, 3))) == {
        "patch_size": 4, "stride": 2, "batch_size": 64}
    assert registry.report_options("grad_cam", layer="conv") == {"batch_size": 64, "layer": "conv"}
    assert registry.report_options("saliency", layer="conv") == {"batch_size": 64}
    for name in A.list_methods():
        method = A.get_method(name)
        assert method.title and method.display in registry.DISPLAYS
        assert method.needs_layer == ("layer" in method.function.__code__.co_varnames)
        assert method.tunnel == (method.family == "gradient" and name != "smoothgrad")


def test_registry_refuses_bad_records():
    with pytest.raises(ValueError, match="family must be one of"):
        registry.register("gradients")
    with pytest.raises(ValueError, match="display must be one of"):
        registry.register("cam", display="colour")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("gradient")(_renamed("saliency"))
    with pytest.raises(ValueError, match=r"noise_tunnel: method must be one of \[.*'saliency'"):
        A.noise_tunnel("grad_cam", _model(), _images())
    with pytest.raises(ValueError, match="list_methods: family must be"):
        A.list_methods("cams")


def _renamed(name):
    def f(model, images):
        return None

    f.__name__ = name
    return f
