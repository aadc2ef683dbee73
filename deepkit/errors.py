"""Exceptions raised by deepkit, each able to say where the problem is.

Example:
    >>> from deepkit.errors import SpecError
    >>> str(SpecError("unknown layer 'Conv'", path="layers[2]", line=5, column=3, source="net.yaml"))
    "net.yaml:5:3: layers[2]: unknown layer 'Conv'"
"""

__all__ = ["DeepkitError", "SpecError", "DataError"]


class DeepkitError(Exception):
    """Base class of every error deepkit raises on purpose.

    Example:
        >>> issubclass(SpecError, DeepkitError) and issubclass(DataError, DeepkitError)
        True
    """


class SpecError(DeepkitError, ValueError):
    """A model spec (dict, list, YAML or JSON) is malformed or cannot be built.

    Args:
        message: what was wrong and what is expected.
        path: where in the spec, e.g. ``"layers[3].residual.layers[0]"``.
        line: 1-based line in the source file or text, when known.
        column: 1-based column, when known.
        source: the file name (or ``"<string>"``) the spec came from.

    Example:
        >>> import deepkit
        >>> try:
        ...     deepkit.from_spec([{"Dense": 2}, {"Dens": 3}], input_shape=(4,))
        ... except deepkit.SpecError as err:
        ...     print(err)
        [1].Dens: unknown layer 'Dens'. Did you mean 'Dense'? A spec may use any keras.layers class or a layer registered with deepkit.spec.register_layer.
    """

    def __init__(self, message, *, path=None, line=None, column=None, source=None):
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.source = source
        super().__init__(self._format())

    def _format(self):
        where = []
        if self.source or self.line is not None:
            location = self.source or "<spec>"
            if self.line is not None:
                location += f":{self.line}"
                if self.column is not None:
                    location += f":{self.column}"
            where.append(location)
        if self.path:
            where.append(self.path)
        return ": ".join(where + [self.message])


class DataError(DeepkitError, ValueError):
    """Training or evaluation data does not fit the model (shape, dtype, NaN, label range...).

    Example:
        >>> import numpy as np, deepkit
        >>> model = deepkit.from_spec([{"Dense": 3}], input_shape=(2,))
        >>> model.compile(loss="sparse_categorical_crossentropy")
        >>> try:
        ...     model.fit(np.zeros((4, 2)), np.array([0, 1, 2, 7]), verbose=0)
        ... except deepkit.DataError as err:
        ...     print(type(err).__name__)
        DataError
    """
