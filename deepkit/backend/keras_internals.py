"""The one module of deepkit that names Keras internals (``keras.src``), and the Keras versions they fit.

A few jobs have no public Keras API: the fast fit path reuses ``fit``'s own data splitting, class weights
and log conversion; the jax loops run steps inside a stateless scope; specs are built in Keras' safe mode
whatever the global setting; checkpoints save the global seed generator; the multi-worker patch replaces
two functions of the TensorFlow trainer. Internals can move between releases, so this module checks the
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

import importlib
import re
import warnings

import keras

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


#: ``keras.src.backend``: the jax loops use its ``StatelessScope``.
keras_backend = _internal("keras.src.backend")
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


def global_seed_generator():
    """The ``keras.random.SeedGenerator`` that unseeded ``keras.random`` calls draw from.

    Keras keeps it in its global state under ``"global_seed_generator"`` (named
    ``GLOBAL_SEED_GENERATOR`` from Keras 3.11 on) and creates it on first use.

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
