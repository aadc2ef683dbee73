"""deepkit.Model: a functional keras.Model that remembers the spec it was built from.

It is a real ``keras.Model``: compile, fit, evaluate, predict, ``save(".keras")`` and ``export`` work
unchanged. On top it adds ``to_spec()``, a summary with multiply-adds, and data checks in ``fit``. The
spec language (:mod:`deepkit.spec`) builds the layers and their graph; this module puts them in a model
that trains (:mod:`deepkit.train`), so the language itself does not depend on training.

Example:
    >>> import deepkit
    >>> model = deepkit.from_spec({"input_shape": [4], "layers": [{"Dense": 3}]})
    >>> model.to_spec()
    {'input_shape': [4], 'layers': [{'Dense': 3}]}
"""

import os

import keras

from deepkit.backend.keras_internals import functional_class, init_functional, is_functional_call
from deepkit.errors import SpecError
from deepkit.spec.build import build_model, check_python_layers, format_spec, layers_spec
from deepkit.spec.parse import load_document, parse_document

__all__ = ["LOAD_HINT", "FunctionalModel", "Model", "SpecModelMixin", "build_document", "from_spec", "to_spec"]

LOAD_HINT = "import deepkit before keras.saving.load_model: this file holds a deepkit.Model"


class SpecModelMixin:
    """What deepkit adds to a Keras model, shared by ``deepkit.Model`` and ``deepkit.Sequential``.

    ``to_spec()``, a ``summary()`` with multiply-adds, data checks in ``fit``/``evaluate`` and the
    fast fit path. Put it before the Keras class: ``class M(SpecModelMixin, keras.Model)``.

    A saved ``.keras`` file holds Keras' own config, the spec (with its dtype policy) and the weights. With
    ``import deepkit``, ``keras.saving.load_model`` gives the deepkit model back; without it, plain Keras loads
    the file as a ``keras.Model`` computing the same outputs when every layer is a Keras layer (see
    :mod:`deepkit.core.saving`).

    Example:
        >>> import deepkit
        >>> issubclass(deepkit.Model, SpecModelMixin) and issubclass(deepkit.Sequential, SpecModelMixin)
        True
    """

    _spec_document = None

    def to_spec(self, format=None):
        """The spec this model was built from, as plain data or text.

        Args:
            format: None for a dict, ``"yaml"`` or ``"json"`` for text.

        Returns:
            A dict ``{name, input_shape, layers}`` or a string.

        Raises:
            SpecError: the model was not built from a spec, or holds a layer that is not registered.

        Example:
            >>> import deepkit
            >>> print(deepkit.from_spec([{"Dense": 2}], input_shape=(3,)).to_spec("yaml"), end="")
            input_shape: [3]
            layers:
            - {Dense: 2}
        """
        if self._spec_document is None:
            raise SpecError(f"model '{self.name}' was not built from a spec (use deepkit.from_spec or "
                            "deepkit.Sequential), so it has no spec to give.")
        data = self._spec_document.to_data()
        return format_spec(data, format)

    def get_config(self):
        """The model's config: Keras' own (functional or sequential), plus the spec of a model built from one.

        Saved as ``{"module": "keras", "class_name": "Model"}``: plain Keras (no deepkit) loads the file as a
        ``keras.Model`` computing the same outputs when every layer is a Keras layer; with deepkit imported it
        comes back as a ``deepkit.Model`` rebuilt from its spec (see :mod:`deepkit.core.saving`).

        Returns:
            Keras' functional config, with ``"spec"`` (plain data) when the model has one.

        Raises:
            SpecError: the spec holds an object that loading would refuse (e.g. an unregistered custom
                function): refused now, rather than saved and then unloadable.

        Example:
            >>> import deepkit
            >>> config = deepkit.from_spec([{"Dense": 2}], input_shape=(3,)).get_config()
            >>> config["spec"], sorted(config)[:3]
            ({'input_shape': [3], 'layers': [{'Dense': 2}]}, ['input_layers', 'layers', 'name'])
        """
        spec = self._saveable_spec()
        config = super().get_config()
        if spec is not None:
            config["spec"] = spec
        return config

    def _saveable_spec(self):
        """The model's spec, checked to load back; None when it has none (Keras' own config applies)."""
        if self._spec_document is None:
            return None
        try:
            spec = self.to_spec()
        except SpecError:
            return None  # e.g. an unregistered custom layer: Keras' own config is saved instead
        try:
            parse_document(spec)  # what loading reads back: refuse now what it would refuse then
            check_python_layers(self._spec_document.nodes)
        except SpecError as exc:
            raise SpecError(
                f"model '{self.name}' cannot be saved: loading its spec would fail with: {exc.message} "
                "Register custom objects with @keras.saving.register_keras_serializable(), or use "
                "objects from keras.", path=exc.path, line=exc.line, column=exc.column) from exc
        return spec

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "spec" in config:
            if not isinstance(config["spec"], dict):
                # A saved model carries its spec as data; a string would be read as a file path.
                raise SpecError("a saved deepkit.Model must carry its spec as a mapping. Received: "
                                f"{type(config['spec']).__name__}")
            name = config.get("name")
            if name == (config["spec"].get("name") or "model"):
                name = None  # the spec's own (or default) name: keep the spec as it was written
            model = from_spec(config["spec"], name=name)
            model.trainable = config.get("trainable", True)
            return model
        if cls is Model and not {"layers", "input_layers", "output_layers"} <= set(config):
            # Keras' name "Model" is registered for deepkit's files (deepkit.core.saving); a user's own unregistered
            # class called Model saves under it too, and Keras' registry lookup puts deepkit's class first.
            raise TypeError(
                "this config, saved under the class name 'Model', is neither a deepkit model nor a functional model "
                "(it has no 'spec' and no 'layers'/'input_layers'/'output_layers'): it is a subclassed model whose "
                "class is called Model. deepkit registers Keras' name 'Model' for its own files, so register that "
                "class under a package name, @keras.saving.register_keras_serializable(package='mine'), and save "
                f"it again. Received config keys: {sorted(config)}")
        return super().from_config(config, custom_objects=custom_objects)

    def save(self, filepath, *args, **kwargs):
        """Keras' ``save``, after checking that the model's spec will load back; the file loads in plain Keras too.

        The ``.keras`` file names the model as Keras names its own (see :mod:`deepkit.core.saving`): without
        deepkit it loads as a ``keras.Model`` when every layer is a Keras layer; with deepkit, as this class.

        Args:
            filepath, *args, **kwargs: as in ``keras.Model.save``.

        Returns:
            None.

        Raises:
            SpecError: loading the spec would fail (see ``get_config``).

        Example:
            >>> import deepkit, tempfile, os
            >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
            >>> deepkit.from_spec([{"Dense": 2}], input_shape=(3,)).save(path)
            >>> os.path.exists(path)
            True
        """
        from deepkit.core import saving

        self._saveable_spec()
        saving.register()  # again: the user may have cleared Keras' registry since deepkit was imported
        result = super().save(filepath, *args, **kwargs)
        if isinstance(filepath, (str, os.PathLike)) and os.fspath(filepath).endswith(".keras"):
            saving.rewrite_saved_file(filepath)
        return result

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None, macs=True):
        """Print the layers with output shapes, parameters and multiply-adds.

        Args:
            line_length, positions, expand_nested, show_trainable, layer_range: as in Keras; giving any
                of them prints Keras' own summary instead.
            print_fn: function taking one line of text; ``print`` by default.
            macs: False prints Keras' own summary.

        Returns:
            None.

        Example:
            >>> import deepkit
            >>> deepkit.from_spec([{"Dense": 2}], input_shape=(3,)).summary()  # doctest: +ELLIPSIS
            Model: ...
        """
        keras_args = (line_length, positions, layer_range)
        if not macs or any(a is not None for a in keras_args) or expand_nested or show_trainable:
            return super().summary(line_length=line_length, positions=positions, print_fn=print_fn,
                                   expand_nested=expand_nested, show_trainable=show_trainable,
                                   layer_range=layer_range)
        from deepkit.summary import summary

        summary(self, print_fn=print_fn)

    def fit(self, x=None, y=None, *args, fast="auto", augment=None, **kwargs):
        """Keras' ``fit`` with data checks first, on deepkit's on-device fast path when it applies.

        The fast path (``deepkit.train.fit``) keeps in-memory arrays on the device and runs many
        Keras training steps per compiled call, with Keras' semantics: same History, callbacks,
        validation, ``initial_epoch``/resume, ``steps_per_epoch``, custom ``train_step``. Where
        it cannot apply (a ``tf.data.Dataset``, a ``PyDataset``, a generator, ``validation_steps``,
        the torch backend, a step the compiled loop cannot carry, ...) Keras' own loop runs; both
        ways ``history.fast`` says which path ran (``"device"``, ``"stream"`` or ``"keras"``)
        and why.

        Args:
            x, y: training data as in ``keras.Model.fit``. NumPy-like data is checked first (lengths,
                NaN/inf, shapes, label range) and errors name the argument.
            *args: the other arguments of ``keras.Model.fit`` in its positional order
                (``batch_size, epochs, verbose, callbacks, validation_split, ...``).
            fast: ``"auto"`` (default: the fast path for in-memory arrays, else Keras' loop),
                ``True`` (the same, with a warning saying why when Keras' loop runs) or
                ``False`` (always Keras' own loop).
            augment: a ``deepkit.train.Augment`` applied to each training batch on the device.
            **kwargs: as in ``keras.Model.fit``, plus the options of ``deepkit.train.fit``.

        Returns:
            A ``keras.callbacks.History``, with the ``fast`` attribute described above.

        Raises:
            ValueError: on invalid arguments (the same checks for every path, quoting them) and
                on data that does not match the model (``deepkit.errors.DataError``).

        Example:
            >>> import numpy as np, deepkit
            >>> m = deepkit.from_spec([{"Dense": 1}], input_shape=(2,))
            >>> m.compile(optimizer="sgd", loss="mse")
            >>> h = m.fit(np.zeros((8, 2)), np.zeros((8, 1)), epochs=1, verbose=0)
            >>> sorted(h.history), h.fast["path"] in ("device", "keras")
            (['loss'], True)
            >>> m.fit(np.zeros((8, 2)), np.zeros((8, 1)), 4, 1, 0, fast=False).fast["path"]
            'keras'
        """
        from deepkit import train
        from deepkit.train import checks

        kwargs = train.fit_arguments(args, kwargs)  # Keras' positional order -> keywords
        checks.check_fit_data(self, x, y, validation_data=kwargs.get("validation_data"),
                              sample_weight=kwargs.get("sample_weight"))
        return train.fit(self, x, y, fast=fast, augment=augment, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """Keras' ``evaluate`` with the same data checks as ``fit``.

        Args:
            x, y, *args, **kwargs: as in ``keras.Model.evaluate``.

        Returns:
            As ``keras.Model.evaluate``.

        Example:
            >>> import numpy as np, deepkit
            >>> m = deepkit.from_spec([{"Dense": 1}], input_shape=(2,))
            >>> m.compile(loss="mse")
            >>> float(m.evaluate(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0))
            0.0
        """
        from deepkit.train import checks

        if not args:
            checks.check_fit_data(self, x, y, argument_prefix="evaluate ", sample_weight=kwargs.get("sample_weight"))
        return super().evaluate(x, y, *args, **kwargs)


@keras.saving.register_keras_serializable(package="deepkit", name="Model")
class Model(SpecModelMixin, keras.Model):
    """A Keras model with deepkit's additions: built from a spec (``deepkit.from_spec``), functional or subclassed.

    As ``keras.Model``: called with ``inputs``/``outputs`` it is a functional model (an instance of
    :class:`FunctionalModel`, as ``keras.Model(inputs, outputs)`` is Keras' ``Functional``); subclassed,
    with ``__init__`` and ``call``, it is a subclassed model, whatever was built before it in the process.
    ``to_spec`` is available for models built from a spec.

    Example:
        >>> import deepkit, keras
        >>> m = deepkit.from_spec([{"Dense": 2}], input_shape=(3,))
        >>> isinstance(m, deepkit.Model), isinstance(m, keras.Model)
        (True, True)
        >>> class Sub(deepkit.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.dense = keras.layers.Dense(1)
        ...     def call(self, x):
        ...         return self.dense(x)
        >>> tuple(Sub()(keras.ops.ones((2, 3))).shape)
        (2, 1)
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and is_functional_call(args, kwargs):
            return FunctionalModel.__new__(FunctionalModel, *args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        if is_functional_call(args, kwargs):
            # Keras' own route (keras.Model.__init__) would inject Functional into the bases of every class
            # down to keras.Model, deepkit.Model included, for good; only this model's class is made functional.
            if not isinstance(self, functional_class()):
                _make_functional(type(self))
            init_functional(self, args, kwargs)
        else:
            super().__init__(*args, **kwargs)


@keras.saving.register_keras_serializable(package="deepkit", name="FunctionalModel")
class FunctionalModel(Model, functional_class()):
    """The class of functional ``deepkit.Model`` instances (``deepkit.Model(inputs, outputs)``, ``from_spec``).

    It is to ``deepkit.Model`` what Keras' ``Functional`` is to ``keras.Model``; create it through
    ``deepkit.Model(inputs=..., outputs=...)`` or ``deepkit.from_spec``.

    Example:
        >>> import deepkit, keras
        >>> x = keras.Input((3,))
        >>> type(deepkit.Model(x, keras.layers.Dense(2)(x))).__name__
        'FunctionalModel'
    """


def _make_functional(cls):
    """Put :class:`FunctionalModel` in place of ``deepkit.Model`` in the bases of ``cls`` (a subclass built functionally)."""
    if cls is Model:
        return FunctionalModel
    if cls is object or not issubclass(cls, Model):
        return cls
    bases = tuple(_make_functional(base) for base in cls.__bases__)
    if bases != cls.__bases__:
        cls.__bases__ = bases
    return cls


def build_document(document, input_shape=None, name=None, allocate=True):
    """Build a parsed ``Document`` into a ``deepkit.Model`` (``from_spec`` = parse + this).

    Args:
        document: a ``deepkit.spec.parse.Document``.
        input_shape: the input shape when the document has none; one that differs from the document's
            own is refused (a SpecError), never silently preferred.
        name: overrides the document's name.
        allocate: False builds the weights' shapes only (for ``deepkit.summary``): the model can be
            inspected but not run. True allocates them once they fit in memory (``max_weight_bytes``).

    Returns:
        A ``deepkit.Model``.

    Raises:
        SpecError: the spec cannot be built, or its weights cannot fit in the memory available.

    Example:
        >>> from deepkit.spec.parse import load_document
        >>> build_document(load_document([{"Dense": 2}]), input_shape=(3,)).count_params()
        8
    """
    model = build_model(document, Model, input_shape=input_shape, name=name, allocate=allocate)
    model._spec_document = document
    return model


def from_spec(spec, input_shape=None, name=None):
    """Build a model from a spec: a dict, a list of layer entries, or a YAML/JSON file or text.

    Args:
        spec: ``{"name": ..., "input_shape": [...], "layers": [...]}``, a list of layer entries, a path to
            a ``.yaml``/``.yml``/``.json`` file, or YAML/JSON text. Layer entries are ``"Flatten"``,
            ``{"Dense": 10}``, ``{"Conv2D": [32, 3]}``, ``{"Conv2D": {"filters": 32, "kernel_size": 3}}``,
            and the combinators ``residual``, ``parallel``, ``repeat`` and ``sequential``. Wrapper layers
            take a nested entry: ``{"Bidirectional": {"LSTM": 8}}``, ``{"TimeDistributed": {"layer":
            {"Dense": 3}}}``. A top-level ``dtype_policy`` (``"mixed_bfloat16"``...) is the layers' dtype
            policy; without it, Keras' global policy at build time (recorded in the spec when not float32).
        input_shape: the input shape without batch dimension, for a spec without its own; one that
            differs from the spec's ``input_shape`` (or leading ``Input``) is refused with a SpecError.
        name: the model name; overrides the spec's.

    Returns:
        A ``deepkit.Model`` (a ``keras.Model``).

    Raises:
        SpecError: anything wrong in the spec, with its path, line and column.

    Example:
        >>> import deepkit
        >>> m = deepkit.from_spec('''
        ... input_shape: [8, 8, 1]
        ... layers:
        ...   - Conv2D: {filters: 4, kernel_size: 3, activation: relu}
        ...   - residual:
        ...       layers: [{Conv2D: {filters: 4, kernel_size: 3, padding: same}}]
        ...   - GlobalAveragePooling2D
        ...   - Dense: 2
        ... ''')
        >>> tuple(m.output.shape)
        (None, 2)
    """
    return build_document(load_document(spec), input_shape=input_shape, name=name)


def to_spec(model, format=None):
    """The spec of a model built by deepkit, or of a plain linear Keras model.

    Args:
        model: a ``deepkit.Model``, or a ``keras.Sequential`` / linear functional model whose layers
            are all registered.
        format: None for a dict, ``"yaml"`` or ``"json"``.

    Returns:
        The spec as a dict or text.

    Raises:
        SpecError: the model's graph is not a plain stack, or a layer is not registered.

    Example:
        >>> import keras, deepkit
        >>> k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="out")], name="net")
        >>> deepkit.to_spec(k)
        {'name': 'net', 'input_shape': [3], 'layers': [{'Dense': {'units': 2, 'name': 'out'}}]}
    """
    if isinstance(model, SpecModelMixin) and model._spec_document is not None:
        return model.to_spec(format)
    return format_spec(layers_spec(model), format)
