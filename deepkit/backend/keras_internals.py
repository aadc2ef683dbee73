"""The one module of deepkit that names Keras internals (``keras.src`` and private attributes such as
``_keras_history``, ``_jax_state``, ``_initial_epoch``), and the Keras versions they fit.

A few jobs have no public Keras API: the fast fit path reuses ``fit``'s own data splitting, class weights,
log conversion, symbolic build, resume epoch and (on jax) its way of holding the model state; specs are
built in Keras' safe mode whatever the global setting, with weights sized before they are allocated;
``deepkit.Sequential`` reads Keras' layer list before it is built; checkpoints save the global seed
generator; the multi-worker fix replaces two functions of the TensorFlow trainer. Each is behind one small
function below whose docstring names the internal, why deepkit needs it, and the Keras releases checked
(3.10, the floor, to 3.15); ``tests/integration/test_layout.py`` fails on a use anywhere else. The module is long by
design and one cohesive thing: the complete list of what deepkit borrows from Keras, in one place, so that a
Keras upgrade is checked against one file. Internals can move
between releases, so this module checks the
Keras version once, when it is first imported, against the range deepkit is tested on
(:data:`KERAS_LOWEST` .. :data:`KERAS_NEWEST_TESTED`; CI runs the lowest and the newest):

- an older Keras (or one that is not Keras 3) raises an ``ImportError`` naming the supported range;
- a newer Keras gives one :class:`KerasVersionWarning` naming the range, and deepkit goes on;
- an internal that is missing all the same raises an ``ImportError`` naming it and the range.

Example:
    >>> from deepkit.backend import keras_internals
    >>> keras_internals.parse_version("3.10.0"), keras_internals.SUPPORTED
    ((3, 10, 0), 'Keras 3.10 to 3.15')
"""

import contextlib
import importlib
import re
import warnings

import keras

__all__ = ["KerasVersionWarning", "parse_version", "check_keras_version", "producing_layer", "inbound_node_count",
           "flatten_layers", "sequential_layers", "sequential_graph", "rebuild_sequential", "assert_compiled",
           "symbolic_build", "compile_state", "metrics_result_or_logs", "should_evaluate", "initial_epoch",
           "set_initial_epoch", "distribute_strategy", "attach", "attached", "has_value", "deferred_initialize",
           "pending_variables", "jax_state", "jax_state_synced", "set_jax_state", "take_jax_state",
           "tensorflow_multi_worker_fixes", "global_seed_generator", "record_jax_state_sharding",
           "tensorflow_trainer", "functional_graph", "graph_nodes", "tensor_producer", "operation_nodes",
           "run_graph", "functional_class", "is_functional_call", "init_functional"]

#: Lowest Keras release deepkit supports: the floor of pyproject.toml, tested in CI (ci/constraints-floors.txt).
KERAS_LOWEST = (3, 10)
#: Newest Keras minor release deepkit has been tested on (CI installs the newest release).
KERAS_NEWEST_TESTED = (3, 15)
#: The supported range in words, as messages give it.
SUPPORTED = f"Keras {KERAS_LOWEST[0]}.{KERAS_LOWEST[1]} to {KERAS_NEWEST_TESTED[0]}.{KERAS_NEWEST_TESTED[1]}"
_INSTALL = (f"pip install 'keras>={KERAS_LOWEST[0]}.{KERAS_LOWEST[1]},"
            f"<{KERAS_NEWEST_TESTED[0]}.{KERAS_NEWEST_TESTED[1] + 1}'")


class KerasVersionWarning(UserWarning):
    """Warned once when the installed Keras is newer than the newest release deepkit was tested on.

    Example:
        >>> issubclass(KerasVersionWarning, UserWarning)
        True
    """


def parse_version(text):
    """The leading numbers of a version string.

    Args:
        text: a version such as ``"3.10.0"``, ``"3.11.0rc1"`` or ``"3.12.0.dev2025"``.

    Returns:
        A tuple of ints, ``(3, 11, 0)`` for ``"3.11.0rc1"``.

    Raises:
        ValueError: the string does not start with a number.

    Example:
        >>> parse_version("3.11.0rc1")
        (3, 11, 0)
    """
    numbers = []
    for part in str(text).split("."):
        match = re.match(r"\d+", part)
        if not match:
            break
        numbers.append(int(match.group()))
        if match.end() != len(part):
            break
    if not numbers:
        raise ValueError(f"not a version number. Received: {text!r}")
    return tuple(numbers)


def check_keras_version(version=None):
    """Check a Keras version against the range deepkit supports; done once when this module is imported.

    Args:
        version: a version string; defaults to the installed ``keras.version()``.

    Returns:
        None when the version is in the tested range, else the warning text (also warned as a
        :class:`KerasVersionWarning`) for a newer Keras.

    Raises:
        ImportError: the version is older than :data:`KERAS_LOWEST` or not Keras 3.

    Example:
        >>> check_keras_version("3.12.1") is None
        True
        >>> check_keras_version("3.9.2")
        Traceback (most recent call last):
        ...
        ImportError: deepkit supports Keras 3.10 to 3.15 (tested). Received: Keras 3.9.2. Install a supported Keras: pip install 'keras>=3.10,<3.16'
    """
    text = keras.version() if version is None else str(version)
    found = parse_version(text)[:2]
    if found < KERAS_LOWEST or found[0] != KERAS_LOWEST[0]:
        raise ImportError(f"deepkit supports {SUPPORTED} (tested). Received: Keras {text}. "
                          f"Install a supported Keras: {_INSTALL}")
    if found > KERAS_NEWEST_TESTED:
        message = (f"deepkit is tested on {SUPPORTED}. Received: Keras {text}, newer than that; deepkit uses "
                   f"some Keras internals that may have changed. If something fails, install a tested Keras: "
                   f"{_INSTALL}")
        warnings.warn(message, KerasVersionWarning, stacklevel=2)
        return message
    return None


check_keras_version()


def _internal(module, name=None):
    try:
        found = importlib.import_module(module)
        return found if name is None else getattr(found, name)
    except (ImportError, AttributeError) as err:
        what = module if name is None else f"{module}.{name}"
        raise ImportError(f"deepkit needs the Keras internal '{what}', which {SUPPORTED} have; this Keras "
                          f"{keras.version()} lacks it ({err}). Install a supported Keras: {_INSTALL}") from err


#: ``keras.src.trainers.data_adapters.array_slicing``: ``fit``'s ``validation_split``.
array_slicing = _internal("keras.src.trainers.data_adapters.array_slicing")
#: ``keras.src.trainers.data_adapters.data_adapter_utils``: class weights, ``(x, y, sample_weight)`` unpacking.
data_adapter_utils = _internal("keras.src.trainers.data_adapters.data_adapter_utils")
#: ``keras.src.utils.python_utils.pythonify_logs``: ``fit``'s conversion of logs to Python floats.
pythonify_logs = _internal("keras.src.utils.python_utils", "pythonify_logs")
#: ``keras.src.saving.serialization_lib.SafeModeScope``: safe mode while specs build layers.
SafeModeScope = _internal("keras.src.saving.serialization_lib", "SafeModeScope")
#: ``keras.src.backend.common.global_state``: where the global seed generator lives.
global_state = _internal("keras.src.backend.common.global_state")
#: ``keras.src.backend.common.stateless_scope.in_stateless_scope``: spec builds size weights before allocating.
in_stateless_scope = _internal("keras.src.backend.common.stateless_scope", "in_stateless_scope")
_seed_generator = _internal("keras.src.random.seed_generator")

# ------------------------------------------------------------------------------------------------------
# Keras private attributes and methods deepkit relies on. Each function names one, says why deepkit needs
# it, and the Keras releases it was checked on: 3.10 (the floor, ci/constraints-floors.txt) to 3.15.
# ------------------------------------------------------------------------------------------------------
def producing_layer(tensor):
    """The layer whose call made a symbolic tensor, or None for anything else.

    Internal: ``KerasTensor._keras_history`` (``(operation, node_index, tensor_index)``); Keras exports no
    accessor for it. Why: a model's output layers (kept float32 under mixed precision), the main output's
    name in a spec with side outputs, ``keras.Input`` tensors given to ``deepkit.Sequential``. Checked on
    Keras 3.10-3.15.

    Args:
        tensor: any object; a ``keras.KerasTensor`` made by a layer call or ``keras.Input``.

    Returns:
        The layer (an ``InputLayer`` for ``keras.Input``), or None.

    Example:
        >>> import keras
        >>> producing_layer(keras.Input((3,))).__class__.__name__, producing_layer(1.0)
        ('InputLayer', None)
    """
    history = getattr(tensor, "_keras_history", None)
    return None if history is None else history[0]


def inbound_node_count(layer):
    """How many times a layer has been called on symbolic inputs (2 or more: a shared layer).

    Internal: ``Layer._inbound_nodes``. Why: ``to_spec`` of a plain Keras model refuses shared layers, which
    a list of spec entries cannot express. Checked on Keras 3.10-3.15.

    Args:
        layer: a ``keras.layers.Layer``.

    Returns:
        An int.

    Example:
        >>> import keras
        >>> dense = keras.layers.Dense(2)
        >>> _ = dense(keras.Input((3,))); _ = dense(keras.Input((3,)))
        >>> inbound_node_count(dense)
        2
    """
    return len(getattr(layer, "_inbound_nodes", None) or [])


def flatten_layers(layer, include_self=True, recursive=True):
    """The layers inside a layer or model, nested ones included when ``recursive``.

    Internal: ``Layer._flatten_layers``. Why: switching the compute dtype of every leaf layer of a built
    model for mixed-precision training (``model.layers`` lists only the top level). Checked on Keras 3.10-3.15.

    Args:
        layer: a Keras layer or model.
        include_self: list the layer itself first.
        recursive: descend into nested layers.

    Returns:
        A list of layers.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> [type(l).__name__ for l in flatten_layers(m, include_self=False)]
        ['InputLayer', 'Dense']
    """
    return list(layer._flatten_layers(include_self=include_self, recursive=recursive))


def sequential_layers(model):
    """All layers of a ``keras.Sequential``, its ``InputLayer`` included (``model.layers`` leaves it out).

    Internal: ``Sequential._layers``. Why: ``deepkit.Sequential`` reads its input shape and the names in use
    before the model is built. Checked on Keras 3.10-3.15.

    Args:
        model: a ``keras.Sequential``.

    Returns:
        The list of layers (Keras' own list: do not modify it).

    Example:
        >>> import keras
        >>> [type(l).__name__ for l in sequential_layers(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))]
        ['InputLayer', 'Dense']
    """
    return model._layers


def sequential_graph(model):
    """The functional model a built ``keras.Sequential`` runs, or None before it is built.

    Internal: ``Sequential._functional``. Why: ``deepkit.Sequential.input``/``output`` of a model built by
    a call (Keras' own properties raise then). Checked on Keras 3.10-3.15.

    Args:
        model: a ``keras.Sequential``.

    Returns:
        A functional ``keras.Model`` or None.

    Example:
        >>> import keras
        >>> sequential_graph(keras.Sequential([keras.layers.Dense(1)])) is None
        True
    """
    return getattr(model, "_functional", None)


def rebuild_sequential(model):
    """Build a ``keras.Sequential`` now when its input shape is known (as ``add(rebuild=True)`` does).

    Internal: ``Sequential._maybe_rebuild``. Why: ``deepkit.Sequential`` adds all its entries first and builds
    once. Checked on Keras 3.10-3.15.

    Args:
        model: a ``keras.Sequential``.

    Returns:
        None.

    Example:
        >>> import keras
        >>> m = keras.Sequential()
        >>> m.add(keras.Input((2,)), rebuild=False); m.add(keras.layers.Dense(1), rebuild=False)
        >>> rebuild_sequential(m); m.built
        True
    """
    model._maybe_rebuild()


def assert_compiled(model, method):
    """Raise Keras' own error when ``model`` has not been compiled.

    Internal: ``Trainer._assert_compile_called``. Why: the fast fit path refuses an uncompiled model with the
    message ``keras.Model.fit`` gives. Checked on Keras 3.10-3.15.

    Args:
        model: a ``keras.Model``.
        method: the name of the method asking (``"fit"``).

    Returns:
        None.

    Raises:
        ValueError: the model is not compiled.

    Example:
        >>> import keras
        >>> assert_compiled(keras.Sequential([keras.layers.Dense(1)]), "fit")
        Traceback (most recent call last):
        ...
        ValueError: You must call `compile()` before using the model.
    """
    model._assert_compile_called(method)


def symbolic_build(model, data_batch):
    """Build a compiled model's variables (layers, metrics, optimizer) from one batch, as ``fit`` does.

    Internal: ``Trainer._symbolic_build``. Why: the fast fit path builds the model before tracing its loops,
    the TensorFlow multi-worker fix builds it on the local replica's batch. Checked on Keras 3.10-3.15.

    Args:
        model: a compiled ``keras.Model``.
        data_batch: ``(x, y, sample_weight)`` of one batch.

    Returns:
        None.

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.layers.Dense(1)]); m.compile(optimizer="sgd", loss="mse")
        >>> symbolic_build(m, (np.zeros((2, 3), "float32"), np.zeros((2, 1), "float32"), None)); m.built
        True
    """
    model._symbolic_build(data_batch=data_batch)


def compile_state(model):
    """What ``compile()`` made: ``(optimizer, loss container, metrics container)``; a new compile makes new ones.

    Internal: ``Trainer._compile_loss`` and ``Trainer._compile_metrics``. Why: the fast fit path keeps its
    traced programs across ``fit`` calls until the model is compiled again. Checked on Keras 3.10-3.15.

    Args:
        model: a ``keras.Model``.

    Returns:
        A tuple of three objects (None where not compiled).

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)]); m.compile(optimizer="sgd", loss="mse")
        >>> len(compile_state(m))
        3
    """
    return (getattr(model, "optimizer", None), getattr(model, "_compile_loss", None),
            getattr(model, "_compile_metrics", None))


def metrics_result_or_logs(model, logs):
    """The epoch's logs as ``fit`` reports them: the model's metrics, else the step's own logs.

    Internal: ``Trainer._get_metrics_result_or_logs``. Why: the fast fit path gives History and callbacks
    exactly what ``fit`` gives, custom ``train_step`` logs included. Checked on Keras 3.10-3.15.

    Args:
        model: a compiled ``keras.Model``.
        logs: the last step's logs.

    Returns:
        A dict.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]); m.compile(loss="mse")
        >>> sorted(metrics_result_or_logs(m, {"loss": 0.0}))
        ['loss']
    """
    return model._get_metrics_result_or_logs(logs)


def should_evaluate(model, epoch, validation_freq):
    """Whether ``fit`` validates after ``epoch`` (0-based) for this ``validation_freq``.

    Internal: ``Trainer._should_eval``. Why: the fast fit path validates on the same epochs as ``fit``.
    Checked on Keras 3.10-3.15.

    Args:
        model: a ``keras.Model``.
        epoch: the epoch index.
        validation_freq: an int (or a list of epochs, as Keras allows).

    Returns:
        A bool.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)])
        >>> should_evaluate(m, 0, 2), should_evaluate(m, 1, 2)
        (False, True)
    """
    return bool(model._should_eval(epoch, validation_freq))


def initial_epoch(model):
    """The epoch ``fit`` resumes from when a callback set one (``BackupAndRestore``), else None.

    Internal: ``Trainer._initial_epoch``. Why: ``deepkit.train.checkpoint.Checkpoint`` resumes as
    ``BackupAndRestore`` does and the fast fit path honours it as ``fit`` does. Checked on Keras 3.10-3.15.

    Args:
        model: a ``keras.Model``.

    Returns:
        An int or None.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)])
        >>> set_initial_epoch(m, 3); initial_epoch(m)
        3
    """
    return getattr(model, "_initial_epoch", None)


def set_initial_epoch(model, epoch):
    """Set (or, with None, clear) the epoch ``fit`` resumes from; see :func:`initial_epoch`.

    Internal: ``Trainer._initial_epoch``, read by ``fit`` when training begins. Checked on Keras 3.10-3.15.

    Args:
        model: a ``keras.Model``.
        epoch: an int, or None.

    Returns:
        None.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)])
        >>> set_initial_epoch(m, None); initial_epoch(m) is None
        True
    """
    model._initial_epoch = epoch


def distribute_strategy(model):
    """The ``tf.distribute`` strategy a model was built under, or None (always None off TensorFlow).

    Internal: ``Trainer._distribute_strategy`` (the public ``distribute_strategy`` falls back to the default
    strategy). Why: the fast fit path runs on one device and leaves distributed models to ``fit``. Checked on
    Keras 3.10-3.15.

    Args:
        model: a ``keras.Model``.

    Returns:
        The strategy or None.

    Example:
        >>> import keras
        >>> distribute_strategy(keras.Sequential([keras.layers.Dense(1)])) is None
        True
    """
    return getattr(model, "_distribute_strategy", None)


def attach(model, key, value):
    """Keep ``value`` on ``model`` under ``key``, past Keras' attribute tracking.

    Internal: ``Layer.__setattr__`` tracks (and wraps) what is set on a layer; ``object.__setattr__`` goes
    past it. Why: the fast fit path caches its compiled loops on the model (collected with it). Checked on
    Keras 3.10-3.15.

    Args:
        model: a Keras layer or model.
        key: a name starting with ``_deepkit_``.
        value: anything.

    Returns:
        None.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)])
        >>> attach(m, "_deepkit_note", {"a": 1}); attached(m, "_deepkit_note")
        {'a': 1}
    """
    if not key.startswith("_deepkit_"):
        raise ValueError(f"attach: the key must start with '_deepkit_'. Received: key={key!r}")
    object.__setattr__(model, key, value)


def attached(model, key, default=None):
    """What :func:`attach` kept on ``model`` under ``key``, else ``default``.

    Args:
        model: a Keras layer or model.
        key: the key given to :func:`attach`.
        default: returned when nothing is attached.

    Returns:
        The value.

    Example:
        >>> import keras
        >>> attached(keras.Sequential(), "_deepkit_note", 0)
        0
    """
    return getattr(model, key, default)


def has_value(variable):
    """Whether a Keras variable holds a value (False: created with its shape only, allocation deferred).

    Internal: ``Variable._value`` (None while the initialization is deferred). Why: deepkit sizes a model
    before allocating its weights. Checked on Keras 3.10-3.15.

    Args:
        variable: a ``keras.Variable``.

    Returns:
        A bool.

    Example:
        >>> import keras
        >>> has_value(keras.Variable(1.0))
        True
    """
    return getattr(variable, "_value", True) is not None


def deferred_initialize(variable):
    """Allocate a variable whose initialization was deferred (created inside a ``StatelessScope``).

    Internal: ``Variable._deferred_initialize``. Why: allocating one model's weights, not every pending variable
    of the process as ``initialize_all_variables`` would. Checked on Keras 3.10-3.15.

    Args:
        variable: a ``keras.Variable`` without value.

    Returns:
        None.

    Example:
        >>> import keras
        >>> with keras.StatelessScope(initialize_variables=False):
        ...     v = keras.Variable(keras.initializers.Ones(), shape=(2,))
        >>> deferred_initialize(v); has_value(v)
        True
        >>> pending_variables()[:] = [p for p in pending_variables() if p is not v]  # allocated: not pending
    """
    variable._deferred_initialize()


def pending_variables():
    """The variables created with deferred initialization and not yet allocated (Keras' own list).

    Internal: ``global_state`` ``"uninitialized_variables"``. Why: allocating or discarding one model's
    deferred weights. Checked on Keras 3.10-3.15.

    Returns:
        Keras' list (modify it in place to forget variables).

    Example:
        >>> isinstance(pending_variables(), list)
        True
    """
    return global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)


# -- the jax trainer's state (Keras' jax fit holds the variables' values outside the model while it runs)


def jax_state(model):
    """The model state Keras' jax trainer holds outside the variables during ``fit``, or None.

    Internal: ``JAXTrainer._jax_state`` (a dict of value lists keyed ``trainable_variables``, ...). Why: the
    fast fit path holds the state the same way, so callbacks can ``model.jax_state_sync()`` as under ``fit``.
    Checked on Keras 3.10-3.15.

    Args:
        model: a ``keras.Model`` on the jax backend.

    Returns:
        The dict or None.

    Example:
        >>> import keras
        >>> jax_state(keras.Sequential([keras.layers.Dense(1)])) is None
        True
    """
    return getattr(model, "_jax_state", None)


def jax_state_synced(model):
    """Whether the model's variables hold the values of its jax state (``JAXTrainer._jax_state_synced``).

    Checked on Keras 3.10-3.15.

    Args:
        model: a ``keras.Model`` on the jax backend.

    Returns:
        A bool (True when no state is held).

    Example:
        >>> import keras
        >>> jax_state_synced(keras.Sequential([keras.layers.Dense(1)]))
        True
    """
    return jax_state(model) is None or bool(getattr(model, "_jax_state_synced", True))


def set_jax_state(model, state):
    """Hold ``state`` as Keras' jax trainer does, the variables marked out of date (None: release it).

    Internal: ``JAXTrainer._jax_state`` and ``_jax_state_synced``, read by ``model.jax_state_sync()``.
    Checked on Keras 3.10-3.15.

    Args:
        model: a ``keras.Model`` on the jax backend.
        state: a dict keyed like Keras' (``trainable_variables``, ``non_trainable_variables``,
            ``optimizer_variables``, ``metrics_variables``), or None.

    Returns:
        None.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)])
        >>> set_jax_state(m, None); jax_state(m) is None
        True
    """
    model._jax_state = state
    if state is not None:
        model._jax_state_synced = False


def take_jax_state(model, optimizer_variables, purge=True):
    """The model's state as the jax ``train_step``/``test_step`` take it, as ``fit`` gathers it.

    Internal: ``JAXTrainer._get_jax_state``; with ``purge`` the variables give up their values (the state
    owns them until :func:`set_jax_state` / ``jax_state_sync``), so their memory is not held twice.
    Checked on Keras 3.10-3.15.

    Args:
        model: a compiled, built ``keras.Model`` on the jax backend.
        optimizer_variables: include the optimizer's variables (training).
        purge: release the variables' own values.

    Returns:
        A tuple of lists: trainable, non-trainable, (optimizer,) metrics variables' values.

    Example:
        >>> import keras
        >>> keras.backend.backend() != "jax" or callable(take_jax_state)
        True
    """
    record_jax_state_sharding(model)  # Keras 3.10 reads it while the variables still hold their values
    state = model._get_jax_state(trainable_variables=True, non_trainable_variables=True,
                                 optimizer_variables=optimizer_variables, metrics_variables=True,
                                 purge_model_variables=purge)
    if purge:
        model._jax_state_synced = False
    return state


@contextlib.contextmanager
def tensorflow_multi_worker_fixes(local_value):
    """Work around two Keras 3 bugs that stop ``fit`` under TensorFlow's ``MultiWorkerMirroredStrategy``.

    keras-team/keras#20585 (tensorflow/tensorflow#72388): (1) ``Trainer._maybe_symbolic_build`` averages a
    peeked input batch across workers with an eager collective, which fails on ``PerReplica`` values; it only
    needs the shapes, so the local replica's batch is used instead. (2) ``reduce_per_replica`` averages the
    per-step logs (scalars) with ``strategy.reduce("MEAN", v, axis=0)``, invalid for rank-0 values;
    ``axis=None`` averages across replicas as intended. Internals: ``keras.src.backend.tensorflow.trainer``'s
    ``TensorFlowTrainer._maybe_symbolic_build``, ``reduce_per_replica`` and
    ``_collective_all_reduce_multi_worker``, and ``Trainer._distribute_strategy``. The patches are active only
    inside the block and are skipped where these internals are missing. Checked on Keras 3.10-3.15.

    Args:
        local_value: ``local_value(strategy, v)``: the local replica's value of a distributed value, ``v``
            otherwise (given by the TensorFlow backend, the only one that knows its types).

    Returns:
        A context manager.

    Example:
        >>> callable(tensorflow_multi_worker_fixes)
        True
    """
    try:
        from keras import tree

        tf_trainer = tensorflow_trainer()
        trainer_cls = tf_trainer.TensorFlowTrainer
        original_build = trainer_cls._maybe_symbolic_build
        original_reduce = tf_trainer.reduce_per_replica
        is_multi_worker = tf_trainer._collective_all_reduce_multi_worker
    except (ImportError, AttributeError):  # pragma: no cover - a Keras that changed these internals
        yield
        return

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        if self._distribute_strategy is None:
            return
        if iterator is not None:
            for _, _, it in iterator:
                data_batch = tree.map_structure(lambda v: local_value(self.distribute_strategy, v), next(it))
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and is_multi_worker(strategy):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original_reduce(values, strategy, reduction)

    trainer_cls._maybe_symbolic_build = maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica
    try:
        yield
    finally:
        trainer_cls._maybe_symbolic_build = original_build
        tf_trainer.reduce_per_replica = original_reduce



def global_seed_generator():
    """The ``keras.random.SeedGenerator`` that unseeded ``keras.random`` calls draw from.

    Keras keeps it in its global state under ``"global_seed_generator"`` (named
    ``GLOBAL_SEED_GENERATOR`` from Keras 3.11 on) and creates it on first use. Internal:
    ``keras.src.backend.common.global_state``. Why: checkpoints save and restore the state of unseeded random
    draws. Checked on Keras 3.10-3.15.

    Returns:
        The generator, or None before the first unseeded random call.

    Example:
        >>> import keras
        >>> _ = keras.random.uniform((1,))
        >>> isinstance(global_seed_generator(), keras.random.SeedGenerator)
        True
    """
    key = getattr(_seed_generator, "GLOBAL_SEED_GENERATOR", "global_seed_generator")
    return global_state.get_global_attribute(key)


def record_jax_state_sharding(model):
    """Record the variables' shardings where this Keras' jax ``train_step`` / ``test_step`` read them.

    Keras 3.10's jax trainer constrains the state it returns to shardings that ``fit`` / ``evaluate``
    record first (``model._record_training_state_sharding_spec()``); later releases take them from the
    variables themselves and lack that method, and then nothing is done. Call it while the model variables
    still hold their values (before ``model._get_jax_state(purge_model_variables=True)``).

    Args:
        model: a compiled ``keras.Model`` on the jax backend, its optimizer built when training.

    Returns:
        True where this Keras needed the record, else False.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> m.compile(optimizer="sgd", loss="mse")
        >>> record_jax_state_sharding(m) in (True, False)
        True
    """
    record = getattr(model, "_record_training_state_sharding_spec", None)
    if record is None:
        return False
    record()
    return True


def tensorflow_trainer():
    """Keras' TensorFlow trainer module, imported on first use (it imports TensorFlow).

    Returns:
        The module ``keras.src.backend.tensorflow.trainer``.

    Raises:
        ImportError: this Keras lacks it (the message names the supported range), or TensorFlow is absent.

    Example:
        >>> import keras
        >>> keras.backend.backend() != "tensorflow" or hasattr(tensorflow_trainer(), "TensorFlowTrainer")
        True
    """
    return _internal("keras.src.backend.tensorflow.trainer")


# ---------------------------------------------------------------------------------------------------------------------
# viz graph walking
#
# deepkit.viz.graph reads the graph of functional models: the functional model behind a Sequential (or a deepkit
# Block), the nodes of a graph, the layer call that produced a symbolic tensor, and a re-run of a graph with some
# operations replaced. Keras 3 offers no public API for these; the attributes below are the ones Keras' own
# ``Functional`` uses (keras/src/models/functional.py, keras/src/ops/function.py), checked on Keras 3.10 and 3.15.
# ---------------------------------------------------------------------------------------------------------------------


def functional_graph(model):
    """The functional model holding ``model``'s layer graph, or None for a model without one.

    Checked on Keras 3.10-3.15.

    Uses ``model._functional``: a ``keras.Sequential`` (and a deepkit ``Block``) keeps its graph in a functional
    twin built on first input; and ``_nodes_by_depth``, which only graph-holding (functional) models have.

    Args:
        model: a ``keras.Model``.

    Returns:
        The functional ``keras.Model`` (``model`` itself when functional), or None when ``model`` is subclassed or a
        Sequential that is not built yet.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> functional_graph(m) is not None, functional_graph(functional_graph(m)) is functional_graph(m)
        (True, True)
    """
    functional = getattr(model, "_functional", None)
    if functional is not None:
        return functional
    if hasattr(model, "_nodes_by_depth"):
        return model
    return None


def graph_nodes(graph):
    """The call nodes of a functional graph, from the inputs' side to the outputs' side.

    Checked on Keras 3.10-3.15.

    Uses ``graph._nodes_by_depth`` (depth 0 is the output side), the order ``Functional`` itself runs in.

    Args:
        graph: a functional ``keras.Model`` (see :func:`functional_graph`).

    Returns:
        A list of ``keras`` ``Node`` objects (``node.operation``, ``node.arguments``, ``node.outputs``).

    Example:
        >>> import keras
        >>> x = keras.Input((2,))
        >>> m = keras.Model(x, keras.layers.Dense(1, name="d")(x))
        >>> [n.operation.name for n in graph_nodes(m)][-1]
        'd'
    """
    by_depth = graph._nodes_by_depth
    return [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]]


def tensor_producer(tensor):
    """The layer call that produced a symbolic tensor: ``(operation, node, output_index)``.

    Checked on Keras 3.10-3.15.

    Uses ``tensor._keras_history`` (operation, node index, tensor index) and ``operation._inbound_nodes`` (the
    operation's calls), the links ``Functional`` builds its graph from.

    Args:
        tensor: a symbolic ``keras.KerasTensor``.

    Returns:
        ``(operation, node, output_index)``, or None for a tensor that is not part of a graph.

    Example:
        >>> import keras
        >>> x = keras.Input((2,))
        >>> op, node, index = tensor_producer(keras.layers.Dense(1, name="d")(x))
        >>> op.name, index
        ('d', 0)
    """
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return None
    op, node_index, tensor_index = history
    return op, op._inbound_nodes[node_index], tensor_index


def operation_nodes(operation):
    """Every call of ``operation`` (a layer or model) in any graph, in call order.

    Checked on Keras 3.10-3.15.

    Uses ``operation._inbound_nodes``.

    Args:
        operation: a Keras layer or model.

    Returns:
        A list of ``Node`` objects.

    Example:
        >>> import keras
        >>> dense = keras.layers.Dense(1)
        >>> _ = dense(keras.Input((2,))), dense(keras.Input((2,)))
        >>> len(operation_nodes(dense))
        2
    """
    return list(operation._inbound_nodes)


def run_graph(graph, inputs, operation_fn):
    """Re-run a functional graph symbolically on new inputs, each operation replaced by ``operation_fn(op)``.

    Checked on Keras 3.10-3.15.

    Uses ``graph._run_through_graph``, the loop ``Functional.call`` runs; viz uses it to add a perturbation to a
    layer's output (Grad-CAM's intervention model).

    Args:
        graph: a functional ``keras.Model``.
        inputs: tensors shaped like ``graph.inputs``.
        operation_fn: ``op -> callable`` used in place of each operation.

    Returns:
        The graph's outputs.

    Example:
        >>> import keras
        >>> x = keras.Input((2,))
        >>> m = keras.Model(x, keras.layers.Dense(3)(x))
        >>> tuple(run_graph(m, keras.Input((2,)), lambda op: op).shape)
        (None, 3)
    """
    return graph._run_through_graph(inputs, operation_fn=operation_fn)


# ---------------------------------------------------------------------------------------------------------------------
# functional models of a keras.Model subclass
#
# ``keras.Model(inputs, outputs)`` becomes Keras' ``Functional``; a *subclass* of ``keras.Model`` called that way has
# ``Functional`` injected into its bases, recursively, down to ``keras.Model`` (``inject_functional_model_class``). For
# ``deepkit.Model`` that rewrote ``deepkit.Model.__bases__`` for good, so every later subclass of it was functional.
# deepkit.Model keeps its own functional subclass instead and initialises it as ``keras.Model.__init__`` does, without
# the injection. Checked on Keras 3.10-3.15 (keras/src/models/model.py, keras/src/models/functional.py).
# ---------------------------------------------------------------------------------------------------------------------


def functional_class():
    """Keras' ``Functional`` model class (``keras.src.models.functional.Functional``), not exported by Keras.

    Checked on Keras 3.10-3.15.

    Returns:
        The class.

    Example:
        >>> import keras
        >>> x = keras.Input((2,))
        >>> isinstance(keras.Model(x, keras.layers.Dense(1)(x)), functional_class())
        True
    """
    return _internal("keras.src.models.functional", "Functional")


def is_functional_call(args, kwargs):
    """Whether ``Model(*args, **kwargs)`` builds a functional model (``keras.src.models.model.functional_init_arguments``).

    Checked on Keras 3.10-3.15.

    Args:
        args, kwargs: the constructor's arguments.

    Returns:
        A bool.

    Example:
        >>> is_functional_call((1, 2), {}), is_functional_call((), {"name": "m"})
        (True, False)
    """
    return bool(_internal("keras.src.models.model", "functional_init_arguments")(args, kwargs))


def init_functional(model, args, kwargs):
    """Initialise ``model`` as a functional model, as ``keras.Model.__init__`` does, without rewriting class bases.

    Keras runs ``Trainer.__init__`` (the backend's trainer) then ``Functional.__init__``; it also injects
    ``Functional`` into the bases of every class between the model's class and ``keras.Model``
    (``inject_functional_model_class``), which the caller has already arranged. Checked on Keras 3.10-3.15.

    Args:
        model: an instance of a class deriving from ``Functional``.
        args, kwargs: the functional constructor's arguments (``inputs``, ``outputs``, ``name``, ...).

    Returns:
        None.

    Example:
        >>> import keras
        >>> Functional = functional_class()
        >>> x = keras.Input((2,))
        >>> m = Functional.__new__(Functional)
        >>> init_functional(m, (x, keras.layers.Dense(1)(x)), {})
        >>> tuple(m.output.shape)
        (None, 1)
    """
    _internal("keras.src.models.model", "Trainer").__init__(model)
    functional_class().__init__(model, *args, **kwargs)
