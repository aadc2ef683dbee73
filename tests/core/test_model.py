"""deepkit.Model subclassed as keras.Model is, whatever ran before it in the process (issue 27.1).

Keras makes ``SomeModel(inputs, outputs)`` functional by injecting its ``Functional`` class into the bases of
every class down to ``keras.Model``; that rewrote ``deepkit.Model.__bases__`` for good once any functional
deepkit model existed, and every later ``class Sub(deepkit.Model)`` failed with ``Functional.__init__()
missing 2 required positional arguments``. Each test below first builds functional deepkit models (by hand,
from a spec, and a functional subclass), then checks a subclass against the same class on ``keras.Model``.
"""

import keras
import numpy as np
import pytest

import deepkit
from deepkit.core.model import FunctionalModel, SpecModelMixin


def functional_models_first():
    inp = keras.Input((4,))
    deepkit.Model(inp, keras.layers.Dense(1)(inp))
    deepkit.from_spec([{"Dense": 2}], input_shape=(3,))
    deepkit.from_spec({"input_shape": [4], "layers": [{"residual": {"layers": [{"Dense": 4}]}}, {"Dense": 1}]})

    class Functional(deepkit.Model):  # a subclass built functionally: only it becomes functional
        pass

    made = Functional(inp, keras.layers.Dense(3)(inp))
    assert isinstance(made, FunctionalModel) and tuple(made.output.shape) == (None, 3)
    assert deepkit.Model.__bases__ == (SpecModelMixin, keras.Model)


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ rng.normal(size=(4, 1))).astype("float32")


def fit_twins(make, epochs=3):
    """Fit the class made on keras.Model and on deepkit.Model from the same seed; return both histories."""
    histories = []
    for base in (keras.Model, deepkit.Model):
        keras.utils.set_random_seed(1)
        model = make(base)
        model.compile(optimizer="sgd", loss="mse")
        x, y = data()
        histories.append(model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0).history["loss"])
        assert isinstance(model, base)
    return histories


def test_a_subclass_after_functional_models_is_a_subclassed_model():
    functional_models_first()

    class Sub(deepkit.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(1)

        def call(self, x):
            return self.d(x)

    model = Sub()
    assert not isinstance(model, FunctionalModel)
    x, _ = data(4)
    out = keras.ops.convert_to_numpy(model(x))
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in model.d.weights)
    np.testing.assert_allclose(out, x @ kernel + bias, rtol=1e-5, atol=1e-6)


def test_a_custom_train_step_trains_as_on_keras():
    """The pattern of Keras' "customizing what happens in fit" guide: train_step overridden (here it scales y)."""
    functional_models_first()

    def make(base):
        class Scaled(base):
            def __init__(self):
                super().__init__()
                self.hidden = keras.layers.Dense(8, activation="relu")
                self.out = keras.layers.Dense(1)

            def call(self, x):
                return self.out(self.hidden(x))

            def train_step(self, *args):  # jax passes (state, data), the other backends (data)
                *state, (x, y) = args
                return super().train_step(*state, (x, 2.0 * y))

        return Scaled()

    on_keras, on_deepkit = fit_twins(make)
    np.testing.assert_allclose(on_deepkit, on_keras, rtol=1e-5)
    assert on_keras[-1] < on_keras[0]


def test_add_loss_in_a_subclass_counts_as_on_keras():
    """The VAE pattern of Keras' subclassing guide: a layer adds a regularisation loss with add_loss."""
    functional_models_first()

    class Penalty(keras.layers.Layer):
        def call(self, z):
            self.add_loss(0.1 * keras.ops.mean(keras.ops.square(z)))
            return z

    def make(base):
        class Regularised(base):
            def __init__(self):
                super().__init__()
                self.encode = keras.layers.Dense(3)
                self.penalty = Penalty()
                self.decode = keras.layers.Dense(1)

            def call(self, x):
                return self.decode(self.penalty(self.encode(x)))

        return Regularised()

    on_keras, on_deepkit = fit_twins(make)
    np.testing.assert_allclose(on_deepkit, on_keras, rtol=1e-5)
    keras.utils.set_random_seed(1)
    plain = make(keras.Model)
    x, y = data()
    plain.compile(optimizer="sgd", loss="mse")
    mse = float(keras.ops.mean(keras.ops.square(plain(x) - y)))
    assert plain.evaluate(x, y, batch_size=32, verbose=0) > mse  # the added loss is part of it


def test_a_functional_deepkit_model_is_a_deepkit_model_with_keras_functional_behaviour():
    functional_models_first()
    inp = keras.Input((4,))
    model = deepkit.Model(inputs=inp, outputs=keras.layers.Dense(2)(inp), name="f")
    assert isinstance(model, deepkit.Model) and isinstance(model, FunctionalModel)
    assert model.name == "f" and len(model.layers) == 2
    clone = keras.models.clone_model(model)
    assert isinstance(clone, deepkit.Model) and clone.count_params() == model.count_params()
    with pytest.raises(TypeError):
        deepkit.Model(inp)  # half a functional call, as keras.Model(inp)
