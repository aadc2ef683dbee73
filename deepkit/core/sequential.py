"""deepkit.Sequential: a ``keras.Sequential`` that also takes spec entries and combinators.

Everything a Keras user does with ``keras.Sequential`` works unchanged: construction empty or from a
list, ``add`` and ``pop``, a leading ``keras.Input`` or the legacy ``input_shape=`` of the first layer,
a deferred build on the first call, ``build``, ``fit`` or ``predict``, ``get_config``/``from_config``,
``.keras`` files, ``pickle`` and ``keras.models.clone_model``. deepkit adds:

- spec entries beside layer instances: ``"Flatten"``, ``{"Dense": 10}``, ``{"Input": {"shape": [4]}}``
  become the Keras layer they name; the combinators (``deepkit.Residual``, ``Parallel``, ``Repeat``,
  ``Group`` or their dict forms) become one :class:`Block` layer each;
- ``input_shape=`` as a keyword of the constructor;
- ``to_spec()``, ``summary()`` with multiply-adds, data checks in ``fit``/``evaluate`` and the fast fit
  path, shared with ``deepkit.Model`` through ``deepkit.core.model.SpecModelMixin``.

Example:
    >>> import deepkit, keras
    >>> model = deepkit.Sequential()
    >>> model.add(keras.Input((4,)))
    >>> model.add({"Dense": 3})
    >>> model.add(keras.layers.Dense(2, name="out"))
    >>> model.count_params(), model.to_spec()["layers"]
    (23, [{'Dense': 3}, {'Dense': {'units': 2, 'name': 'out'}}])
"""

import re

import keras

from deepkit.backend.keras_internals import producing_layer, rebuild_sequential, sequential_graph, sequential_layers
from deepkit.backend.saving import safe_mode
from deepkit.core.model import SpecModelMixin
from deepkit.errors import SpecError
from deepkit.spec import nodes as N
from deepkit.spec.block import BLOCK_NAMES, Block
from deepkit.spec.build import is_auto_name
from deepkit.spec.parse import INPUT_NAMES, Document, check_data_limits, input_dtype, parse_entry

__all__ = ["Block", "Sequential"]


def _check_input_shape(shape, where="input_shape"):
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if (not isinstance(shape, (list, tuple)) or not shape
            or any(d is not None and (not isinstance(d, int) or isinstance(d, bool) or d < 1) for d in shape)):
        raise SpecError(f"{where} must be positive integers (None for any size), without the batch "
                        f"dimension. Received: {where}={shape!r}")
    return tuple(shape)


class _DataNode(N.Node):
    """Spec data that is already written (a nested ``deepkit.Sequential``)."""

    def __init__(self, data):
        self.data = data

    def to_data(self):
        return self.data


@keras.saving.register_keras_serializable(package="deepkit", name="Sequential")
class Sequential(SpecModelMixin, keras.Sequential):
    """A ``keras.Sequential`` that also takes spec entries and combinators, and gives its spec back.

    It is a ``keras.Sequential`` (``isinstance`` holds) and behaves as one: build it empty and
    ``add()`` layers, or from a list; without an input shape it builds on its first call, ``build``,
    ``fit`` or ``predict``. Entries may be Keras layers or models, ``keras.Input(...)``, spec entries
    (``"Flatten"``, ``{"Dense": 10}``, ``{"Input": {"shape": [4]}}``) and the combinators
    ``deepkit.Residual`` / ``Parallel`` / ``Repeat`` / ``Group`` or their dict forms, each of which
    becomes one :class:`Block` layer.

    Args:
        layers: a list of entries, or None for an empty model.
        trainable: as in ``keras.Sequential``.
        name: the model name.
        input_shape: the input shape without batch dimension; the same as a leading
            ``keras.Input(input_shape)``.

    Returns:
        A ``keras.Sequential`` with ``to_spec()``, a summary with multiply-adds, data checks in
        ``fit``/``evaluate`` and ``fit(fast=True)``.

    Raises:
        SpecError: a spec entry is malformed, or ``input_shape`` is not a shape.
        ValueError: as ``keras.Sequential`` (a second input, duplicate layer names, ...).

    Example:
        >>> import deepkit, keras
        >>> m = deepkit.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), {"Dense": 10}])
        >>> m.count_params(), isinstance(m, keras.Sequential)
        (7850, True)
        >>> lazy = deepkit.Sequential([{"Dense": 4}, deepkit.Residual([{"Dense": 4}])])
        >>> lazy.built
        False
        >>> tuple(lazy(keras.ops.ones((2, 3))).shape), lazy.count_params()
        ((2, 4), 36)
    """

    def __init__(self, layers=None, trainable=True, name=None, *, input_shape=None):
        if layers is not None and not isinstance(layers, (list, tuple)):
            raise SpecError("Sequential expects a list of layers (or nothing, then add() them). "
                            f"Received: {type(layers).__name__}")
        if isinstance(trainable, (tuple, list)) or (isinstance(trainable, int) and not isinstance(trainable, bool)):
            raise TypeError("the second argument of Sequential is `trainable`, as in keras.Sequential; "
                            f"give the input shape by name: input_shape={trainable!r}. Received: trainable={trainable!r}")
        super().__init__(trainable=trainable, name=name)
        items = list(layers or [])
        check_data_limits([item for item in items if isinstance(item, (dict, str, list, tuple))])
        if input_shape is not None:
            shape = _check_input_shape(input_shape)
            self.add(keras.layers.InputLayer(shape=shape), rebuild=False)
            if items:
                items[0] = first = self._as_layer(items[0], 0)
                if producing_layer(first) is not None:  # a keras.Input(...) tensor
                    first = producing_layer(first)
                if isinstance(first, keras.layers.InputLayer) and tuple(first.batch_shape[1:]) == shape:
                    items = items[1:]  # the same input given twice: keep one
        # Names of the instances still to come, so spec entries added before them never take those names.
        self._reserved_names = {item.name for item in items if isinstance(item, keras.layers.Layer)}
        for i, item in enumerate(items):
            self.add(item, rebuild=False, _index=i)
        self._reserved_names = set()
        if sequential_layers(self):
            rebuild_sequential(self)

    # ---- add ------------------------------------------------------------------------------------

    def _as_layer(self, item, index):
        """A Keras layer (or Keras tensor) for one entry: instances as they are, spec data parsed."""
        if isinstance(item, keras.layers.Layer) or producing_layer(item) is not None:
            return item
        where = N.Where(("layers", index))
        if isinstance(item, dict) and len(item) == 1 and next(iter(item)) in INPUT_NAMES:
            key, body = next(iter(item.items()))
            if isinstance(body, (list, tuple)):
                body = {"shape": body}
            if not isinstance(body, dict) or "shape" not in body:
                raise where.child(key).error(
                    f"{key} needs a shape, e.g. {{Input: {{shape: [28, 28, 1]}}}}. Received: {body!r}")
            for option in body:
                if option not in ("shape", "dtype"):
                    raise where.child(key, option).error(f"{key} has no key '{option}'. Expected: shape, dtype.")
            return keras.layers.InputLayer(shape=_check_input_shape(body["shape"], f"layers[{index}].{key}.shape"),
                                           dtype=input_dtype(body.get("dtype"), where.child(key, "dtype")))
        if not isinstance(item, (N.Node, dict, str, list, tuple)) or (isinstance(item, (dict, list, tuple)) and not item):
            raise ValueError(
                "Only instances of `keras.Layer` can be added to a Sequential model (deepkit also takes spec "
                "entries such as {'Dense': 10} and deepkit.Residual/Parallel/Repeat). "
                f"Received: {item!r} (of type {type(item)})")
        node = parse_entry(item, where)
        used = {layer.name for layer in sequential_layers(self)} | getattr(self, "_reserved_names", set())
        if isinstance(node, N.LayerNode):
            ctx = N.BuildContext()
            ctx.used = used
            with safe_mode():
                return node.make_layer(ctx)
        name = node.name
        if name is None:
            ctx = N.BuildContext()
            ctx.used = used
            name = ctx.auto_name(BLOCK_NAMES[type(node)])
        return Block(node, name=name)

    def add(self, layer, rebuild=True, _index=None):
        """Add a layer on top of the stack, as ``keras.Sequential.add``; spec entries are accepted too.

        Args:
            layer: a Keras layer or model, ``keras.Input(...)``, a spec entry (``{"Dense": 10}``,
                ``"Flatten"``, ``{"Input": {"shape": [4]}}``) or a combinator.
            rebuild: rebuild the model now when its input shape is known (as Keras).

        Returns:
            None.

        Raises:
            ValueError: Keras' errors (not a layer, a second input, a duplicate name); SpecError for
                a malformed spec entry.

        Example:
            >>> import deepkit
            >>> m = deepkit.Sequential(input_shape=(3,))
            >>> m.add(deepkit.Residual([{"Dense": 3}]))
            >>> m.layers[0].name, m.count_params()
            ('residual', 12)
        """
        index = len(self.layers) if _index is None else _index
        super().add(self._as_layer(layer, index), rebuild=rebuild)

    # ---- what Keras' Sequential exposes only when called ---------------------------------------------

    @property
    def input(self):
        """The input tensor of the built model (as a functional model's ``input``)."""
        try:
            return super().input
        except AttributeError:
            if sequential_graph(self) is None:
                raise
            return sequential_graph(self).input

    @property
    def output(self):
        """The output tensor of the built model (as a functional model's ``output``)."""
        try:
            return super().output
        except AttributeError:
            if sequential_graph(self) is None:
                raise
            return sequential_graph(self).output

    def get_layer(self, name=None, index=None):
        """Keras' ``get_layer``; a name not found at the top is also looked up inside blocks.

        Args:
            name: the layer name.
            index: the layer index (as Keras).

        Returns:
            The layer.

        Raises:
            ValueError: no layer has that name (Keras' error).

        Example:
            >>> import deepkit
            >>> m = deepkit.Sequential([deepkit.Residual([{"Dense": 2}], name="b")], input_shape=(2,))
            >>> m.get_layer("b_dense").units
            2
        """
        try:
            return super().get_layer(name=name, index=index)
        except ValueError:
            if name is None:
                raise
            for layer in self.layers:
                if isinstance(layer, (Block, Sequential)):
                    try:
                        return layer.get_layer(name)
                    except ValueError:
                        continue
            raise

    # ---- deepkit additions ---------------------------------------------------------------------------

    @property
    def _spec_document(self):
        # The model's own dtype policy (the global one when it was made) is the spec's; layers that differ
        # from it carry their own ``dtype``.
        policy = self.dtype_policy.name
        nodes = []
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Block):
                nodes.append(layer.node)
            elif isinstance(layer, Sequential):
                body = {"layers": layer.to_spec()["layers"], "name": layer.name}
                nodes.append(_DataNode({"sequential": body}))
            else:
                node = N.LayerNode(instance=layer, where=N.Where(("layers", i)))
                node.explicit_name = None if is_auto_name(layer) else layer.name
                node.base_dtype = policy
                nodes.append(node)
        input_shape = dtype = None
        layers = sequential_layers(self)
        if layers and isinstance(layers[0], keras.layers.InputLayer):
            input_shape = list(layers[0].batch_shape[1:])
            dtype = input_dtype(layers[0].dtype, N.Where(("layers", 0)))
        name = None if re.fullmatch(r"sequential(_\d+)?", self.name) else self.name
        return Document(nodes, input_shape=input_shape, name=name,
                        dtype_policy=None if policy == "float32" else policy, input_dtype=dtype)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None, macs=True):
        """Print the layers with output shapes, parameters and multiply-adds (Keras' summary if unbuilt).

        Args:
            line_length, positions, expand_nested, show_trainable, layer_range: as in Keras; giving any
                of them prints Keras' own summary instead.
            print_fn: function taking one line of text; ``print`` by default.
            macs: False prints Keras' own summary.

        Returns:
            None.

        Example:
            >>> import deepkit
            >>> deepkit.Sequential([{"Dense": 2}], input_shape=(3,)).summary()  # doctest: +ELLIPSIS
            Model: ...
        """
        if not self.built:
            macs = False  # nothing to count yet: Keras says the model is not built
        return super().summary(line_length=line_length, positions=positions, print_fn=print_fn,
                               expand_nested=expand_nested, show_trainable=show_trainable,
                               layer_range=layer_range, macs=macs)

    def get_config(self):
        return keras.Sequential.get_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return keras.Sequential.from_config.__func__(cls, config, custom_objects=custom_objects)
