"""The pieces of LeNet-5 as published (LeCun, Bottou, Bengio & Haffner 1998, section II.B)."""

import keras
import numpy as np
from keras import ops

from deepkit.spec.registry import register_layer

__all__ = ["PartialConv2D", "Subsampling2D", "ScaledTanh", "RBFOutput"]


def _positive_int_pair(value, arg, where):
    items = (value, value) if isinstance(value, int) else value
    try:
        pair = tuple(int(v) for v in items)
    except (TypeError, ValueError):
        pair = ()
    if len(pair) != 2 or min(pair) < 1 or any(isinstance(v, bool) for v in items):
        raise ValueError(f"{where}: {arg} must be a positive integer or a pair of them. Received: {arg}={value!r}")
    return pair


def _conv_length(n, k, s, padding):
    if n is None:
        return None
    if padding == "same":
        return -(-n // s)
    return (n - k) // s + 1


@register_layer
class PartialConv2D(keras.layers.Layer):
    """A 2-D convolution in which each output map sees only some input maps (a connection table).

    LeNet-5's layer C3 connects its 16 maps to chosen subsets of the 6 maps of S2 (Table I of the
    paper) "to keep the number of connections within reasonable bounds" and to "break the symmetry in
    the network". Only the connected 5x5 kernels exist as parameters: with the paper's table C3 has
    60 kernels, ``60 * 25 + 16 = 1,516`` trainable parameters (a full Conv2D would have 2,416).
    The kernel variable has shape ``(kh, kw, connections)``; a fixed 0/1 scatter tensor places it into
    a full ``(kh, kw, in, filters)`` kernel for ``keras.ops.conv``. Channels last.

    Args:
        filters: number of output maps.
        kernel_size: int or pair.
        connections: for each output map, the list of input-map indices it is connected to
            (``len(connections) == filters``).
        strides: int or pair.
        padding: ``"valid"`` or ``"same"``.
        activation: Keras activation name or callable applied to the output, or None.
        use_bias: whether each output map has a bias.
        kernel_initializer: initializer of the full kernel ``(kh, kw, in, filters)``; the connected
            entries are kept, so fans are those of a full convolution.
        bias_initializer: initializer of the bias.
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Returns:
        A Keras layer.

    Raises:
        ValueError: an argument is malformed, e.g. an output map with no connection.

    Example:
        >>> import keras, numpy as np
        >>> layer = PartialConv2D(2, 3, connections=[[0], [0, 1]])
        >>> tuple(layer(np.zeros((1, 5, 5, 2), "float32")).shape)
        (1, 3, 3, 2)
        >>> layer.count_params()  # (1 + 2) kernels of 3x3, plus 2 biases
        29
    """

    def __init__(self, filters, kernel_size, connections, strides=1, padding="valid", activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        where = f"PartialConv2D '{self.name}'"
        if isinstance(filters, bool) or not isinstance(filters, int) or filters < 1:
            raise ValueError(f"{where}: filters must be a positive integer. Received: filters={filters!r}")
        self.filters = filters
        self.kernel_size = _positive_int_pair(kernel_size, "kernel_size", where)
        self.strides = _positive_int_pair(strides, "strides", where)
        padding = str(padding).lower()
        if padding not in ("valid", "same"):
            raise ValueError(f"{where}: padding must be 'valid' or 'same'. Received: padding={padding!r}")
        self.padding = padding
        try:
            table = [sorted({int(i) for i in row}) for row in connections]
        except TypeError:
            raise ValueError(f"{where}: connections must be a list (one per output map) of lists of input-map "
                             f"indices. Received: connections={connections!r}") from None
        if len(table) != filters or any(not row or row[0] < 0 for row in table):
            raise ValueError(f"{where}: connections must list, for each of the {filters} output maps, a non-empty "
                             f"list of input-map indices >= 0. Received: connections={connections!r}")
        self.connections = table
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    @property
    def num_connections(self):
        """Number of (input map, output map) pairs, i.e. of kernels."""
        return sum(len(row) for row in self.connections)

    def build(self, input_shape):
        channels = input_shape[-1]
        highest = max(row[-1] for row in self.connections)
        if channels is None or highest >= channels:
            raise ValueError(f"PartialConv2D '{self.name}': connections name input map {highest}, but the input "
                             f"has {channels} channels. Received: input_shape={tuple(input_shape)}")
        kh, kw = self.kernel_size
        pairs = [(i, o) for o, row in enumerate(self.connections) for i in row]
        scatter = np.zeros((len(pairs), channels, self.filters), "float32")
        for n, (i, o) in enumerate(pairs):
            scatter[n, i, o] = 1.0
        self._scatter = scatter
        flat_index = [i * self.filters + o for i, o in pairs]
        full_init = self.kernel_initializer
        full_shape = (kh, kw, channels, self.filters)

        def init(shape, dtype=None):
            full = ops.reshape(full_init(full_shape, dtype=dtype), (kh, kw, channels * self.filters))
            return ops.take(full, np.array(flat_index, "int32"), axis=2)

        self.kernel = self.add_weight(name="kernel", shape=(kh, kw, len(pairs)), initializer=init)
        self.bias = (self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer)
                     if self.use_bias else None)

    def call(self, inputs):
        scatter = ops.convert_to_tensor(self._scatter, dtype=self.kernel.dtype)
        kernel = ops.einsum("hwk,kio->hwio", self.kernel, scatter)
        outputs = ops.conv(inputs, ops.cast(kernel, inputs.dtype), strides=self.strides, padding=self.padding)
        if self.use_bias:
            outputs = outputs + ops.cast(self.bias, outputs.dtype)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        return (input_shape[0], _conv_length(input_shape[1], kh, sh, self.padding),
                _conv_length(input_shape[2], kw, sw, self.padding), self.filters)

    def compute_macs(self, input_shape, output_shape):
        """Multiply-adds per example: one per connected kernel tap and output pixel.

        Shapes may come with or without the batch dimension (``deepkit.summary`` passes them without).
        """
        kh, kw = self.kernel_size
        return int(output_shape[-3] * output_shape[-2] * self.num_connections * kh * kw)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, connections=self.connections,
            strides=self.strides, padding=self.padding,
            activation=keras.activations.serialize(self.activation), use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config


@register_layer
class Subsampling2D(keras.layers.Layer):
    """LeNet-5's subsampling layers S2 and S4: a sum pool times a trainable coefficient, plus a bias.

    "The four inputs to a unit in S2 are added, then multiplied by a trainable coefficient, and added to
    a trainable bias. The result is passed through a sigmoidal function." (LeCun et al. 1998.) Two
    trainable parameters per map (S2: 12, S4: 32). Channels last; non-overlapping windows by default.

    Args:
        pool_size: int or pair, the window.
        strides: int or pair; defaults to ``pool_size``.
        activation: applied after the affine map (the paper's LeNet-5 uses :class:`ScaledTanh`, here
            a separate layer; any Keras activation name works).
        coefficient_initializer: initializer of the per-map coefficient. Default ``1 / window area``,
            which makes a fresh layer an average pool.
        bias_initializer: initializer of the per-map bias.
        **kwargs: base layer arguments.

    Returns:
        A Keras layer.

    Raises:
        ValueError: ``pool_size`` or ``strides`` malformed.

    Example:
        >>> import keras, numpy as np
        >>> layer = Subsampling2D(2)
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> keras.ops.convert_to_numpy(layer(x))[0, :, :, 0].tolist()  # fresh layer: 2x2 average
        [[2.5, 4.5], [10.5, 12.5]]
        >>> layer.count_params()
        2
    """

    def __init__(self, pool_size=2, strides=None, activation=None, coefficient_initializer=None,
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        where = f"Subsampling2D '{self.name}'"
        self.pool_size = _positive_int_pair(pool_size, "pool_size", where)
        self.strides = _positive_int_pair(self.pool_size if strides is None else strides, "strides", where)
        self.activation = keras.activations.get(activation)
        area = self.pool_size[0] * self.pool_size[1]
        self.coefficient_initializer = keras.initializers.get(
            coefficient_initializer if coefficient_initializer is not None
            else keras.initializers.Constant(1.0 / area))
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        channels = input_shape[-1]
        if len(input_shape) != 4 or channels is None:
            raise ValueError(f"Subsampling2D '{self.name}' expects a 4-D (N, H, W, C) input with known C. "
                             f"Received: input_shape={tuple(input_shape)}")
        self.coefficient = self.add_weight(name="coefficient", shape=(channels,),
                                           initializer=self.coefficient_initializer)
        self.bias = self.add_weight(name="bias", shape=(channels,), initializer=self.bias_initializer)

    def call(self, inputs):
        area = self.pool_size[0] * self.pool_size[1]
        sums = ops.average_pool(inputs, self.pool_size, strides=self.strides, padding="valid") * area
        outputs = sums * ops.cast(self.coefficient, sums.dtype) + ops.cast(self.bias, sums.dtype)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        return (input_shape[0], _conv_length(input_shape[1], ph, sh, "valid"),
                _conv_length(input_shape[2], pw, sw, "valid"), input_shape[3])

    def compute_macs(self, input_shape, output_shape):
        """One multiply-add (coefficient times sum) per output value of one example."""
        return int(np.prod(output_shape[-3:]))

    def get_config(self):
        config = super().get_config()
        config.update(
            pool_size=self.pool_size, strides=self.strides,
            activation=keras.activations.serialize(self.activation),
            coefficient_initializer=keras.initializers.serialize(self.coefficient_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config


@register_layer
class ScaledTanh(keras.layers.Layer):
    """LeCun's squashing function ``f(a) = A * tanh(S * a)`` with ``A = 1.7159``, ``S = 2/3``.

    With these constants ``f(1) = 1`` and ``f(-1) = -1`` and the gain is largest near the targets
    (LeCun et al. 1998, appendix A). No parameters.

    Args:
        amplitude: ``A``.
        slope: ``S``.
        **kwargs: base layer arguments.

    Returns:
        A Keras layer; output shape equals input shape.

    Example:
        >>> import keras, numpy as np
        >>> [round(float(v), 3) for v in keras.ops.convert_to_numpy(ScaledTanh()(np.array([1.0, -1.0], "float32")))]
        [1.0, -1.0]
    """

    def __init__(self, amplitude=1.7159, slope=2.0 / 3.0, **kwargs):
        super().__init__(**kwargs)
        self.amplitude = float(amplitude)
        self.slope = float(slope)
        self.supports_masking = True

    def call(self, inputs):
        return self.amplitude * ops.tanh(self.slope * inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(amplitude=self.amplitude, slope=self.slope)
        return config


@register_layer
class RBFOutput(keras.layers.Layer):
    """LeNet-5's output layer: Euclidean radial-basis units with fixed (non-trainable) centres.

    Unit ``i`` computes ``y_i = sum_j (x_j - w_ij) ** 2``, the squared distance of the input (F6, 84
    units) to its centre. In the paper the centres are stylised 7x12 bitmaps of the characters, entries
    +1/-1, "chosen by hand and kept fixed"; those bitmaps are not published as data, so this layer draws
    +1/-1 codes with a fixed seed. The layer returns ``-y`` so that the largest output is the closest
    class and softmax cross-entropy on it is the paper's MAP criterion (equation 9) without its
    rubbish-class constant. The centres are a non-trainable weight (``units * inputs`` values, 840 in
    LeNet-5), so LeNet-5 keeps its 60,000 trainable parameters.

    Args:
        units: number of output classes.
        seed: integer seed of the +1/-1 centres.
        **kwargs: base layer arguments.

    Returns:
        A Keras layer mapping ``(N, D)`` to ``(N, units)``.

    Raises:
        ValueError: ``units`` is not a positive integer.

    Example:
        >>> import keras, numpy as np
        >>> layer = RBFOutput(3)
        >>> tuple(layer(np.zeros((2, 4), "float32")).shape)
        (2, 3)
        >>> len(layer.trainable_weights), layer.count_params()
        (0, 12)
    """

    def __init__(self, units, seed=0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"RBFOutput: units must be a positive integer. Received: units={units!r}")
        self.units = units
        self.seed = int(seed)

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(f"RBFOutput '{self.name}': the last input axis must be known. "
                             f"Received: input_shape={tuple(input_shape)}")
        codes = np.random.default_rng(self.seed).choice(np.array([-1.0, 1.0], "float32"), size=(dim, self.units))

        def init(shape, dtype=None):
            return ops.convert_to_tensor(codes, dtype=dtype)

        self.centers = self.add_weight(name="centers", shape=(dim, self.units), initializer=init, trainable=False)

    def call(self, inputs):
        centers = ops.cast(self.centers, inputs.dtype)
        diff = ops.expand_dims(inputs, -1) - centers
        return -ops.sum(ops.square(diff), axis=-2)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def compute_macs(self, input_shape, output_shape):
        """One multiply-add (square and accumulate) per input and unit."""
        return int(input_shape[-1] * self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, seed=self.seed)
        return config
