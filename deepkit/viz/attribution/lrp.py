"""Layer-wise relevance propagation (Bach et al. 2015; Montavon et al. 2019), backend-agnostic.

LRP redistributes the class logit down the network, layer by layer, so that each input pixel
gets a share (its *relevance*). For a linear layer ``z_j = sum_i x_i w_ij + b_j`` a rule picks
modified weights ``w'`` (and bias ``b'``) and sends

    ``R_i = x_i * sum_j w'_ij * R_j / s_j``,  ``s_j = z'_j + eps * sign(z'_j)`` (sign 0 counts as +1),

with ``z'_j = sum_i x_i w'_ij + b'_j``. The rules (Captum's ``captum.attr._utils.lrp_rules``):

- ``"epsilon"``: ``w' = w``, ``b' = b``, stabiliser ``epsilon`` (Captum's ``EpsilonRule``);
- ``"gamma"``: ``w' = w + gamma * max(w, 0)``, ``b' = b`` (``GammaRule``);
- ``"zplus"`` (alias ``"alpha1_beta0"``): ``w' = max(w, 0)``, ``b' = b`` (``Alpha1_Beta0_Rule``).

``gamma`` and ``zplus`` use the stabiliser ``1e-9`` (Captum's). Pooling layers (max, average,
global) follow the epsilon rule with their own forward pass (a max pool passes a unit's
relevance to its maximum). ReLU, Flatten, Reshape, Dropout and the like pass relevance
unchanged (so does tanh, as in Captum: its gradient is replaced by ``tanh(u) / u``); an ``Add`` (a skip connection) splits it in proportion to each branch's contribution
``x_k / sum_k x_k``; a ``Concatenate`` (GoogLeNet's Inception branches) gives each input the
relevance of its own slice of the output; zero padding and cropping pass it to the pixels they keep.
A ``DepthwiseConv1D`` / ``DepthwiseConv2D`` is a linear layer whose outputs each read one input
channel: the rules apply to it as to a convolution (kind ``"conv"``), channel by channel. Any other
layer is refused, naming it.

**Computation (the "gradient trick").** Every Dense / Conv / pooling layer's output is replaced,
inside a context, by ``stop_gradient(y) + (z' - stop_gradient(z')) * stop_gradient(y / s)``: the
forward values are the model's own, and the gradient of the class logit with respect to the
input, times the input, is the LRP relevance. The existing gradient engine does the rest, on
every backend.

**Canonization.** A ``BatchNormalization`` that follows a Dense / Conv layer with a linear
activation is merged into it first (``w * g / sqrt(v + e)``, ``(b - m) * g / sqrt(v + e) + beta``),
and the rule acts on the merged layer (:func:`lrp_context` computes the model's outputs from the
merged weights; they equal the original's to float rounding). A BatchNorm after anything else is
refused.

**Composites (which rule where).** ``rules`` is a rule name (that rule on every Dense / Conv
layer) or a dict by layer kind: ``"dense"``, ``"conv"`` (depthwise convolutions included) and
optionally ``"first"`` (the first Dense / Conv layer the input meets). The default, :data:`DEFAULT_COMPOSITE`, is Zennit's
``EpsilonPlus``: z+ on convolutions (lower layers: stable, positive evidence), epsilon on dense
layers (upper layers: a faithful, sparse decomposition of the logit).

Example:
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, activation="relu"),
    ...                           keras.layers.Flatten(), keras.layers.Dense(3)])
    >>> lrp(model, np.random.rand(2, 6, 6, 1)).shape
    (2, 6, 6)
"""

import contextlib

import keras
import numpy as np
from keras import ops

from deepkit.viz import graph
from deepkit.viz.attribution.gradient import GradientPath, attribute
from deepkit.viz.attribution.registry import register

__all__ = ["lrp", "lrp_context", "RULES", "DEFAULT_COMPOSITE"]

#: The rule names (``"alpha1_beta0"`` is an alias of ``"zplus"``).
RULES = ("epsilon", "gamma", "zplus", "alpha1_beta0")

#: Zennit's ``EpsilonPlus``: z+ on convolutions, epsilon on dense layers.
DEFAULT_COMPOSITE = {"conv": "zplus", "dense": "epsilon"}

_CAPTUM_STABILITY = 1e-9
_CONV = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
_LINEAR_LAYERS = (keras.layers.Dense,) + _CONV + _DEPTHWISE
_POOL = (keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.MaxPooling3D,
         keras.layers.AveragePooling1D, keras.layers.AveragePooling2D, keras.layers.AveragePooling3D,
         keras.layers.GlobalAveragePooling1D, keras.layers.GlobalAveragePooling2D,
         keras.layers.GlobalAveragePooling3D, keras.layers.GlobalMaxPooling1D,
         keras.layers.GlobalMaxPooling2D, keras.layers.GlobalMaxPooling3D)
_PASS = (keras.layers.InputLayer, keras.layers.Flatten, keras.layers.Reshape, keras.layers.Dropout,
         keras.layers.SpatialDropout1D, keras.layers.SpatialDropout2D, keras.layers.SpatialDropout3D,
         keras.layers.GaussianNoise, keras.layers.GaussianDropout, keras.layers.Add, keras.layers.Identity,
         keras.layers.Concatenate, keras.layers.ZeroPadding1D, keras.layers.ZeroPadding2D,
         keras.layers.ZeroPadding3D, keras.layers.Cropping1D, keras.layers.Cropping2D, keras.layers.Cropping3D)
_LINEAR = (keras.activations.linear,)


_PASSED = (keras.activations.relu, keras.activations.tanh)  # relevance passes unchanged (as Captum's)


def _activation_ok(layer):
    act = getattr(layer, "activation", None)
    return act is None or act in _LINEAR or act in _PASSED


def _plain_relu(layer):
    if isinstance(layer, keras.layers.ReLU):
        return not layer.negative_slope and layer.max_value is None and not layer.threshold
    if isinstance(layer, keras.layers.Activation):
        return layer.activation in _LINEAR or layer.activation in _PASSED
    return False


def _check_layers(model, where):
    """Refuse a layer LRP cannot handle, naming it."""
    for path, layer, _ in graph.walk(model):
        if graph.is_container(layer):
            continue
        pre_activation = isinstance(layer, graph.PreActivation)  # the engine's logits: inner layer, no activation
        layer = layer.inner if pre_activation else layer
        if isinstance(layer, _LINEAR_LAYERS):
            if not pre_activation and not _activation_ok(layer):
                raise ValueError(f"{where}: layer '{path}' has activation {layer.activation.__name__!r}; LRP "
                                 "handles linear, ReLU and tanh activations only. Received: a model with that layer")
            if isinstance(layer, _CONV) and (layer.groups != 1 or getattr(layer, "padding", "") == "causal"):
                raise ValueError(f"{where}: layer '{path}' is a grouped or causal convolution, which LRP here "
                                 f"does not handle. Received: groups={layer.groups}, padding={layer.padding!r}")
            continue
        if isinstance(layer, keras.layers.BatchNormalization) or isinstance(layer, _POOL + _PASS):
            continue
        if _plain_relu(layer):
            continue
        raise ValueError(f"{where}: layer '{path}' ({type(layer).__name__}) has no LRP rule: LRP handles Dense, "
                         "Conv1D/2D/3D, DepthwiseConv1D/2D, BatchNormalization after them, pooling, Add, "
                         "Concatenate, Flatten/Reshape/Dropout, zero padding, cropping and ReLU layers. "
                         f"Received: a model with layer '{path}'")


def _resolve_rules(rules, where):
    if rules is None:
        rules = DEFAULT_COMPOSITE
    if isinstance(rules, str):
        rules = {"dense": rules, "conv": rules}
    if not isinstance(rules, dict) or not set(rules) <= {"dense", "conv", "first"}:
        raise ValueError(f"{where}: rules must be a rule name {RULES} or a dict with keys 'dense', 'conv' and "
                         f"optionally 'first'. Received: rules={rules!r}")
    out = {"dense": "epsilon", "conv": "epsilon", **rules}
    for kind, rule in out.items():
        if rule not in RULES:
            raise ValueError(f"{where}: unknown rule {rule!r} for {kind!r} layers; expected one of {RULES}. "
                             f"Received: rules={rules!r}")
        out[kind] = "zplus" if rule == "alpha1_beta0" else rule
    return out


def _sign(z):
    return ops.where(z >= 0, 1.0, -1.0)


def _trick(y, z_rule, stabilizer):
    """Forward value ``y``; gradient ``d z_rule * y / (z_rule + stabilizer * sign(z_rule))``."""
    y = ops.stop_gradient(y)
    scale = ops.stop_gradient(y / (z_rule + stabilizer * _sign(z_rule)))
    return y + (z_rule - ops.stop_gradient(z_rule)) * scale


def _linear(layer, x, kernel, bias):
    if isinstance(layer, keras.layers.Dense):
        z = ops.matmul(x, kernel)
    elif isinstance(layer, _DEPTHWISE):
        z = ops.depthwise_conv(x, kernel, strides=layer.strides, padding=layer.padding,
                               data_format=layer.data_format, dilation_rate=layer.dilation_rate)
    else:
        z = ops.conv(x, kernel, strides=layer.strides, padding=layer.padding, data_format=layer.data_format,
                     dilation_rate=layer.dilation_rate)
    if bias is not None:
        dense = isinstance(layer, keras.layers.Dense)
        axis = 1 if not dense and layer.data_format == "channels_first" else -1
        shape = [1] * len(z.shape)
        shape[axis] = -1
        z = z + ops.reshape(bias, shape)
    return z


def _rule_weights(rule, kernel, bias, gamma):
    if rule == "gamma":
        kernel = kernel + gamma * ops.relu(kernel)
    elif rule == "zplus":
        kernel = ops.relu(kernel)
    return kernel, bias


def _bn_factors(bn):
    """``(scale, shift)`` with ``bn(z) = z * scale + shift`` along ``bn.axis``."""
    inv = 1.0 / ops.sqrt(ops.convert_to_tensor(bn.moving_variance) + bn.epsilon)
    scale = inv * bn.gamma if bn.scale else inv
    shift = -ops.convert_to_tensor(bn.moving_mean) * scale
    if bn.center:
        shift = shift + bn.beta
    return scale, shift


@contextlib.contextmanager
def lrp_context(model, rules=None, *, epsilon=1e-9, gamma=0.25, where="lrp"):
    """Within the context, ``model``'s gradient times its input is the LRP relevance.

    Dense / Conv / pooling layers compute the gradient trick of the module docstring;
    BatchNormalization layers are merged into the Dense / Conv layer before them (the model's
    outputs are then those of the canonized model).

    Args:
        model: A Keras model whose layers LRP handles (others are refused, by name).
        rules: A rule name or a composite dict (module docstring); ``None``: :data:`DEFAULT_COMPOSITE`.
        epsilon: The epsilon rule's stabiliser.
        gamma: The gamma rule's factor.
        where: The caller's name, for messages.

    Returns:
        A context manager; the layers are restored on exit.

    Raises:
        ValueError: For a layer LRP cannot handle, or unknown rules.

    Example:
        >>> import numpy as np, keras
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, use_bias=False),
        ...                       keras.layers.BatchNormalization(), keras.layers.Dense(1)])
        >>> x = np.random.rand(4, 3).astype("float32")
        >>> with lrp_context(m, "epsilon"):
        ...     canonized = keras.ops.convert_to_numpy(m(x))
        >>> bool(np.allclose(canonized, keras.ops.convert_to_numpy(m(x)), atol=1e-5))
        True
    """
    rules = _resolve_rules(rules, where)
    _check_layers(model, where)
    state = {"first": True, "linear_out": []}  # (output tensor, layer, input) of linear-activation layers

    def linear_call(layer, original):
        def call(inputs, *args, **kwargs):
            kind = "dense" if isinstance(layer, keras.layers.Dense) else "conv"
            rule = rules["first"] if state["first"] and "first" in rules else rules[kind]
            state["first"] = False
            kernel, bias = layer.kernel, layer.bias if layer.use_bias else None
            pre = _linear(layer, inputs, kernel, bias)
            k, b = _rule_weights(rule, kernel, bias, gamma)
            stab = epsilon if rule == "epsilon" else _CAPTUM_STABILITY
            out = _trick(pre, _linear(layer, inputs, k, b), stab)
            if layer.activation is keras.activations.relu:
                return ops.relu(out)
            if layer.activation is keras.activations.tanh:
                return _trick(ops.tanh(out), out, _CAPTUM_STABILITY)
            state["linear_out"].append((out, layer, inputs, rule))
            return out

        return call

    def bn_call(layer):
        def call(inputs, *args, **kwargs):
            found = [rec for rec in state["linear_out"] if rec[0] is inputs]
            if not found:
                raise ValueError(f"{where}: BatchNormalization layer '{layer.name}' does not follow a Dense or Conv "
                                 "layer with a linear activation, so it cannot be merged into one (LRP canonization). "
                                 f"Received: a model with layer '{layer.name}'")
            _, linear, x, rule = found[-1]
            scale, shift = _bn_factors(layer)
            # A depthwise kernel (..., in_channels, multiplier) makes output channel c * multiplier + k.
            kernel = linear.kernel * (ops.reshape(scale, linear.kernel.shape[-2:]) if isinstance(linear, _DEPTHWISE)
                                      else scale)
            bias = shift + (linear.bias * scale if linear.use_bias else 0.0)
            pre = _linear(linear, x, kernel, bias)
            k, b = _rule_weights(rule, kernel, bias, gamma)
            stab = epsilon if rule == "epsilon" else _CAPTUM_STABILITY
            return _trick(pre, _linear(linear, x, k, b), stab)

        return call

    def pool_call(original):
        def call(inputs, *args, **kwargs):
            y = original(inputs, *args, **kwargs)
            return _trick(y, y, epsilon)

        return call

    def tanh_call(inputs, *args, **kwargs):
        return _trick(ops.tanh(inputs), inputs, _CAPTUM_STABILITY)

    patched = []
    try:
        for _, layer, _ in graph.walk(model):
            if isinstance(layer, graph.PreActivation):
                layer = layer.inner  # it calls inner.call with a linear activation: the rule applies there
            if isinstance(layer, keras.layers.Activation) and layer.activation is keras.activations.tanh:
                new = tanh_call
            elif isinstance(layer, _LINEAR_LAYERS):
                new = linear_call(layer, layer.call)
            elif isinstance(layer, keras.layers.BatchNormalization):
                new = bn_call(layer)
            elif isinstance(layer, _POOL):
                new = pool_call(layer.call)
            else:
                continue
            patched.append((layer, layer.__dict__.get("call")))
            object.__setattr__(layer, "call", new)
        yield
    finally:
        for layer, old in reversed(patched):
            if old is None:
                layer.__dict__.pop("call", None)
            else:
                object.__setattr__(layer, "call", old)
        state["linear_out"].clear()


def _key(rules, epsilon, gamma):
    return ("lrp", tuple(sorted(rules.items())), float(epsilon), float(gamma))


@register("gradient", title="LRP", display="signed", order=8, reference="Bach et al. 2015")
def lrp(model, images, class_index=None, *, rules=None, epsilon=1e-9, gamma=0.25, reduce="sum", batch_size=64):
    """Layer-wise relevance propagation (Bach et al. 2015) with the epsilon, gamma and z+ rules.

    Each pixel's share of the class logit, propagated down layer by layer with the rule of each
    layer kind (module docstring: the rules, the default composite, BatchNorm canonization, skip
    connections). Captum's ``LRP`` with the same rules gives the same relevances.

    Args:
        model: A classifier of Dense, Conv, DepthwiseConv, BatchNormalization, pooling, Add,
            Concatenate, Flatten, Dropout, zero padding, cropping, ReLU and tanh layers (any other
            layer is refused, by name).
        images: ``(N, H, W, C)`` array.
        class_index: ``None`` (predicted class), int, or one per image.
        rules: ``"epsilon"``, ``"gamma"``, ``"zplus"`` (``"alpha1_beta0"``) for every Dense / Conv
            layer, or a dict by kind (``"dense"``, ``"conv"``, ``"first"``); ``None``:
            :data:`DEFAULT_COMPOSITE`.
        epsilon: The epsilon rule's stabiliser (and the pooling layers').
        gamma: The gamma rule's factor.
        reduce: As :func:`~deepkit.viz.attribution.gradient.input_x_gradient` (``"sum"``: the
            pixel's relevance summed over channels; ``None``: per channel).
        batch_size: Images per compiled call.

    Returns:
        float32 array ``(N, H, W)`` (or ``(N, H, W, C)`` with ``reduce=None``).

    Raises:
        ValueError: For a layer LRP cannot handle, or unknown rules.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        ...                           keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
        >>> lrp(model, np.random.rand(2, 4, 4, 1), rules="epsilon", reduce=None).shape
        (2, 4, 4, 1)
    """
    from deepkit.viz.engine import engine

    where = "lrp"
    resolved = _resolve_rules(rules, where)
    lm = engine(model).logits
    _check_layers(lm, where)

    def path_of(x, reduce="sum"):
        backward = (_key(resolved, epsilon, gamma),
                    lambda: lrp_context(lm, resolved, epsilon=epsilon, gamma=gamma, where=where))
        return GradientPath(1, lambda xr, i, k: xr, lambda xr, i, k: xr, reduce, backward)

    path_of.model = lm
    return attribute(model, images, class_index, path_of, {"reduce": reduce}, batch_size, where).astype("float32")
