"""deepkit's Block: a spec combinator (residual, parallel, repeat, group) as one Keras layer.

A ``deepkit.Sequential`` holds each combinator it is given as one :class:`Block`; the block builds its
layers from the combinator's spec when it first sees its input shape.

Example:
    >>> import deepkit, keras
    >>> block = Block(deepkit.Repeat(2, [{"Dense": 3}]))
    >>> tuple(block(keras.ops.ones((1, 3))).shape)
    (1, 3)
"""

import keras

from deepkit.backend.saving import safe_mode
from deepkit.errors import SpecError
from deepkit.spec import nodes as N
from deepkit.spec.parse import parse_entry

__all__ = ["BLOCK_NAMES", "Block", "LOAD_HINT"]

#: The first entry of a saved Block's config, quoted by Keras' error when a file is loaded without deepkit.
LOAD_HINT = "import deepkit before keras.saving.load_model: this layer is a deepkit Block (pip install deepkit)"

#: The combinator node types a Block holds, and the default name of each.
BLOCK_NAMES = {N.Residual: "residual", N.Parallel: "parallel", N.Repeat: "repeat", N.Group: "group"}


@keras.saving.register_keras_serializable(package="deepkit", name="Block")
class Block(keras.Model):
    """A spec combinator (residual, parallel, repeat, group) as one layer of a ``deepkit.Sequential``.

    The block builds its layers when it first sees its input shape, like a nested ``keras.Sequential``
    without an ``Input``; its ``layers`` are then those of the branches, named as in ``from_spec``
    (``block1_conv2d``). It saves and clones through its spec, so every layer in it must be registered.

    Args:
        spec: a ``deepkit.Residual`` / ``Parallel`` / ``Repeat`` / ``Group`` node or its dict form
            (``{"residual": {...}}``), or a list of entries (a group).
        name: the layer name; the node's own name, else ``residual``, ``parallel``... .
        **kwargs: ``trainable``, ``dtype`` as for any Keras layer.

    Returns:
        A Keras layer (a ``keras.Model``).

    Raises:
        SpecError: ``spec`` is not a combinator, or its layers cannot take the input shape.

    Example:
        >>> import deepkit, keras
        >>> block = Block(deepkit.Residual([{"Dense": 4}], activation="relu"))
        >>> tuple(block(keras.ops.ones((2, 4))).shape), [layer.name for layer in block.layers]
        ((2, 4), ['dense', 'add', 'out'])
    """

    def __init__(self, spec, name=None, **kwargs):
        node = spec if isinstance(spec, N.Node) else parse_entry(spec, N.Where())
        if type(node) not in BLOCK_NAMES:
            raise SpecError("a Block holds a combinator (residual, parallel, repeat or sequential). "
                            f"Received: {type(spec).__name__} {spec!r}")
        super().__init__(name=name or node.name or BLOCK_NAMES[type(node)], **kwargs)
        self.node = node
        self._functional = None  # named as keras.Sequential names its graph: graph walkers treat both alike

    def build(self, input_shape):
        inputs = keras.Input(batch_shape=tuple(input_shape), name=f"{self.name}_input")
        with safe_mode():
            outputs = self.node.build(inputs, N.BuildContext())
        self._functional = keras.Model(inputs=inputs, outputs=outputs, name=f"{self.name}_graph")

    def call(self, inputs, training=None):
        return self._functional.call(inputs, training=training)

    def compute_output_shape(self, input_shape):
        if self._functional is None:  # ask a throwaway copy, so that this block stays unbuilt
            probe = type(self).from_config(self.get_config())
            probe.build(input_shape)
            return probe._functional.compute_output_shape(input_shape)
        return self._functional.compute_output_shape(input_shape)

    @property
    def layers(self):
        """The layers of the block once built (its input layer left out), else an empty list."""
        if self._functional is None:
            return []
        return [layer for layer in self._functional.layers if not isinstance(layer, keras.layers.InputLayer)]

    def to_spec(self):
        """The block as spec data.

        Returns:
            A dict such as ``{"residual": {...}}``.

        Example:
            >>> import deepkit
            >>> Block(deepkit.Repeat(2, [{"Dense": 3}])).to_spec()
            {'repeat': {'times': 2, 'layers': [{'Dense': 3}]}}
        """
        return self.node.to_data()

    def get_config(self):
        # "requires" comes first, so that Keras' "Could not locate class 'Block'" (a file loaded without deepkit)
        # quotes which package to import.
        return {"requires": LOAD_HINT, "name": self.name, "trainable": self.trainable, "spec": self.to_spec()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config.pop("requires", None)
        spec = config.pop("spec", None)
        if not isinstance(spec, dict):
            raise SpecError("a saved deepkit Block must carry its spec as a mapping such as "
                            f"{{'residual': {{...}}}}. Received: {type(spec).__name__}")
        return cls(spec, **config)
