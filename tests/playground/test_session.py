"""A session's numbers against Keras: its losses, its training updates and its neuron maps."""

import base64

import keras
import numpy as np
import pytest

from deepkit.playground import data as pdata
from deepkit.playground.config import checked
from deepkit.playground.session import Session


def _decode(b64):
    return (np.frombuffer(base64.b64decode(b64), np.uint8).astype(np.float64) - 128) / 127


def _session(**settings):
    s = Session("t", checked(dict({"grid": 8, "numSamples": 100}, **settings)))
    s.build()
    return s


@pytest.mark.parametrize("dataset", ["circle", "reg-gauss"])
def test_frame_losses_are_the_keras_losses(dataset):
    """Train/test loss of a frame = keras.losses on the model's predictions.

    Planted error that fails it: the (1 - t) * log(1 - p) term dropped from _loss_value.
    """
    s = _session(dataset=dataset, networkShape=[3])
    frame = s.update()
    loss = keras.losses.BinaryCrossentropy() if s.problem == "classification" else keras.losses.MeanSquaredError()
    for part, x, y in (("train", s.x_train, s.points.y_train), ("test", s.x_test, s.points.y_test)):
        expected = float(loss(y.reshape(-1, 1), s.model.predict(x, verbose=0)))
        assert frame["loss"][part] == pytest.approx(expected, rel=1e-4, abs=1e-6), part


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_updates_train_like_keras_train_on_batch(optimizer):
    """Three full-batch updates through the compiled loops = three train_on_batch steps of a plain Keras copy.

    Planted error that fails it: _optimizer builds SGD/Adam with twice the learning rate.
    """
    s = _session(networkShape=[4, 3], batchSize=512, optimizer=optimizer, learningRate=0.1,
                 regularization="L2", regularizationRate=0.01)
    reference = keras.Sequential([keras.Input((2,))] + [
        keras.layers.Dense(n, activation=a, kernel_regularizer=keras.regularizers.L2(0.01))
        for n, a in ((4, "tanh"), (3, "tanh"), (1, "sigmoid"))])
    reference.set_weights(s.model.get_weights())
    opt = keras.optimizers.SGD(0.1) if optimizer == "sgd" else keras.optimizers.Adam(0.1)
    reference.compile(optimizer=opt, loss="binary_crossentropy")
    for _ in range(3):
        s.update()
        reference.train_on_batch(s.x_train, s.y_train)
    for got, want in zip(s.model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_neuron_and_output_maps_are_the_layer_outputs_over_the_plane():
    """Each neuron's map (decoded) = that Dense unit's output at grid cell centres, row 0 at the top.

    The grid is written here with numpy. Planted error that fails it: grid_points without the
    row flip (y rising down the image).
    """
    s = _session(networkShape=[3], features=["x", "y", "sinX"], grid=10)
    frame = s.update()
    step = 12 / 10
    centres = -6 + step * (np.arange(10) + 0.5)
    pts = np.array([[x, y] for y in centres[::-1] for x in centres], np.float32)
    feats = np.stack([pts[:, 0], pts[:, 1], np.sin(pts[:, 0])], 1)
    hidden = keras.Model(s.model.inputs, s.model.get_layer("hidden_1").output).predict(feats, verbose=0)
    for j, (b64, scale) in enumerate(frame["maps"][0]):
        np.testing.assert_allclose(_decode(b64) * scale, np.clip(hidden[:, j], -scale, scale), atol=scale / 127)
    prob = s.model.predict(feats, verbose=0)[:, 0]
    np.testing.assert_allclose(_decode(frame["output"]), 2 * prob - 1, atol=1 / 127)


def test_exports_rebuild_the_same_network(tmp_path):
    import deepkit
    from deepkit.models import load

    s = _session(networkShape=[5, 2], activation="relu", regularization="L1", regularizationRate=0.001)
    s.update()
    rebuilt = deepkit.from_spec(s.spec_yaml())
    assert [(l.units, l.activation.__name__) for l in rebuilt.layers if hasattr(l, "units")] == \
        [(5, "relu"), (2, "relu"), (1, "sigmoid")]
    path = tmp_path / "playground.keras"
    path.write_bytes(s.keras_bytes())
    loaded = load(str(path))
    pts = np.random.default_rng(0).uniform(-6, 6, (32, 2)).astype("float32")
    np.testing.assert_allclose(loaded.predict(pdata.features(pts, ["x", "y"]), verbose=0)[:, 0], s.predict(pts),
                               rtol=1e-5, atol=1e-6)
