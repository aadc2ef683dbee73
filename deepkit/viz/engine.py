"""The model-bound engine of deepkit.viz: one object per model runs every batched, compiled call.

As Captum binds an attribution method to a forward function, :func:`engine` binds deepkit's
attribution, adversarial and evaluation code to a model: the :class:`Engine` of a model owns
its logit model (:func:`deepkit.viz.graph.logit_model`), its input spec (checks of the
images), target selection (``class_index``), the compiled functions it calls and their cache,
and the chunked execution of those functions. Engines are cached per model (weakly: they go
when the model goes), so following a model through ``viz.fgsm`` or ``viz.smoothgrad`` binds
it once.

Chunks: work is cut into rows (one row = one model evaluation: an image, a noisy copy, a
point of an integration path, an occluded copy). Rows of all images are flattened into one
sequence and cut into chunks of ``batch_size`` rows. On backends that compile (jax,
TensorFlow) every full chunk has the same shape, so one compilation serves them all; only
the last chunk is padded, to the next power of two (a run shorter than ``batch_size`` is
one chunk of its exact size). Torch runs eagerly, so nothing is padded there, and forward-only calls run
under :func:`deepkit.backend.gradients.no_grad` (no autograd graph is built).

Example:
    >>> import numpy as np, keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    >>> eng = engine(model)
    >>> eng is engine(model), eng.num_classes
    (True, 3)
    >>> eng.predict_classes(np.zeros((5, 4), "float32")).shape
    (5,)
"""

import numpy as np
from keras import ops

from deepkit import backend
from deepkit.backend import gradients
from deepkit.viz import graph

__all__ = ["Engine", "engine", "check_batch_size", "pick_target"]


def check_batch_size(batch_size, where):
    """``batch_size`` as an int, or a ValueError naming ``where``.

    Args:
        batch_size: The value to check (a positive integer).
        where: Name of the calling function, for the message.

    Returns:
        int.

    Example:
        >>> check_batch_size(8, "saliency")
        8
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{where}: batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    return int(batch_size)


def pick_target(logits, onehot, use_pred):
    """The one-hot target of each row: the given class, or the predicted one where ``use_pred``.

    Args:
        logits: ``(rows, classes)`` tensor.
        onehot: ``(rows, classes)`` one-hot classes (zeros where the prediction is used).
        use_pred: ``(rows, 1)``: 1.0 where the predicted class is the target.

    Returns:
        ``(rows, classes)`` tensor, with no gradient.

    Example:
        >>> import numpy as np
        >>> t = pick_target(np.array([[0.0, 2.0]], "float32"), np.zeros((1, 2), "float32"),
        ...                 np.ones((1, 1), "float32"))
        >>> ops.convert_to_numpy(t).tolist()
        [[0.0, 1.0]]
    """
    logits = ops.convert_to_tensor(logits)
    pred = ops.one_hot(ops.argmax(logits, axis=-1), ops.shape(logits)[-1], dtype=logits.dtype)
    return ops.stop_gradient(use_pred * pred + (1.0 - use_pred) * onehot)


def _probabilities(logits):
    if logits.shape[-1] == 1:
        return ops.sigmoid(logits)
    return ops.softmax(logits, axis=-1)


def _pad_rows(arrays, rows):
    """Pad every array's first axis to ``rows`` by repeating its last row."""
    out = []
    for a in arrays:
        n = a.shape[0]
        if n < rows:
            a = np.concatenate([a, np.repeat(a[-1:], rows - n, axis=0)], axis=0)
        out.append(a)
    return out


class Engine:
    """Batched, compiled calls of one classifier (see the module docstring).

    Use :func:`engine` to get the cached engine of a model rather than building one.

    Args:
        model: A functional or Sequential classifier with one input and one
            ``(batch, classes)`` output.

    Attributes:
        model: The model.
        logits: Its logit model (:func:`deepkit.viz.graph.logit_model`).
        input_shape: The input shape without the batch axis (``None`` for free sizes).
        num_classes: Number of outputs.

    Example:
        >>> import numpy as np, keras
        >>> eng = Engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)]))
        >>> eng.images(np.zeros((3, 2)), "example").dtype
        dtype('float32')
    """

    def __init__(self, model):
        self.model = model
        self.logits = graph.logit_model(model)
        self.input_shape = tuple(graph.graph_of(model).inputs[0].shape[1:])
        self.num_classes = graph.num_classes(model)
        self._compiled = {}
        # TensorFlow runs channels-first convolutions on the CPU only under XLA.
        self.xla = any(getattr(layer, "data_format", None) == "channels_first"
                       for _, layer, _ in graph.walk(model))

    # ------------------------------------------------------------------ inputs and targets

    def images(self, images, where):
        """Check a batch of inputs against the model's input spec.

        Args:
            images: ``(N,) + input_shape`` array (or one input without the batch axis).
            where: Name of the calling function, for messages.

        Returns:
            float32 numpy array with a batch axis.

        Raises:
            ValueError: For a non-numeric, empty, wrongly shaped or non-finite batch.

        Example:
            >>> import numpy as np, keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)]))
            >>> eng.images(np.zeros(2), "example").shape
            (1, 2)
        """
        x = np.asarray(images)
        if x.dtype == object:
            raise ValueError(f"{where}: images must be a numeric array. Received: dtype=object")
        x = x.astype("float32", copy=False)
        expected = self.input_shape
        if x.ndim == len(expected):
            x = x[None]
        shape_ok = x.ndim == len(expected) + 1 and all(
            want is None or got == want for got, want in zip(x.shape[1:], expected)
        )
        if not shape_ok:
            raise ValueError(
                f"{where}: images must have shape (batch,) + {expected} for model "
                f"'{self.model.name}'. Received: images.shape={np.shape(images)}"
            )
        if len(x) == 0:
            raise ValueError(f"{where}: got an empty batch. Received: images.shape={x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{where}: images contain NaN or infinite values.")
        return x

    def targets(self, class_index, n, where):
        """One-hot targets ``(onehot (n, C), use_prediction (n, 1))`` for ``class_index``.

        Args:
            class_index: ``None`` (each row's predicted class, chosen inside the compiled
                call), an int, or one int per row.
            n: Number of rows.
            where: Name of the calling function, for messages.

        Returns:
            Two float32 arrays.

        Example:
            >>> import keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]))
            >>> onehot, use_pred = eng.targets([2, 0], 2, "example")
            >>> onehot.tolist(), use_pred.ravel().tolist()
            ([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], [0.0, 0.0])
        """
        onehot = np.zeros((n, self.num_classes), "float32")
        if class_index is None:
            return onehot, np.ones((n, 1), "float32")
        idx = np.asarray(class_index)
        if idx.ndim == 0:
            idx = np.full((n,), idx)
        if idx.shape != (n,) or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(
                f"{where}: class_index must be None, an int, or one int per image ({n} images). "
                f"Received: class_index={class_index!r}"
            )
        bad = (idx < 0) | (idx >= self.num_classes)
        if bad.any():
            raise ValueError(
                f"{where}: class_index must be in 0..{self.num_classes - 1} for a model with "
                f"{self.num_classes} outputs. Received: class_index={idx[bad][0]}"
            )
        onehot[np.arange(n), idx] = 1.0
        return onehot, np.zeros((n, 1), "float32")

    def resolved_targets(self, x, class_index, batch_size, where):
        """One-hot targets with ``None`` resolved to the predicted class of each clean input.

        Args:
            x: Checked inputs (see :meth:`images`).
            class_index: As :meth:`targets`.
            batch_size: Rows per compiled call for the prediction.
            where: Name of the calling function, for messages.

        Returns:
            float32 ``(N, C)``.

        Example:
            >>> import numpy as np, keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]))
            >>> eng.resolved_targets(np.zeros((4, 2), "float32"), None, 8, "example").sum(1).tolist()
            [1.0, 1.0, 1.0, 1.0]
        """
        if class_index is None:
            class_index = self.predict_classes(x, batch_size)
        return self.targets(class_index, len(x), where)[0]

    # ------------------------------------------------------------------ compiled functions

    def jit(self, fn, models=None):
        """Compile ``fn`` (:func:`deepkit.backend.gradients.jit`) over the logit model's variables.

        Channels-first models compile with XLA on TensorFlow (its CPU kernels take NHWC only).

        Args:
            fn: A function of tensors calling the logit model (or ``models``).
            models: Models whose variables ``fn`` reads; default ``[self.logits]``.

        Returns:
            The compiled callable.

        Example:
            >>> import numpy as np, keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]))
            >>> tuple(eng.jit(lambda v: eng.logits(v) * 2.0)(np.zeros((1, 2), "float32")).shape)
            (1, 3)
        """
        return gradients.jit(fn, models=[self.logits] if models is None else models, jit_compile=self.xla)

    def compiled(self, key, build, forward=False):
        """The compiled function cached under ``key``, built by ``build()`` on first use.

        Args:
            key: Hashable cache key (e.g. ``("cam", layer, ...)``).
            build: ``() -> callable`` (usually ``gradients.jit(...)``).
            forward: The function is a forward pass only: on torch it runs under
                :func:`deepkit.backend.gradients.no_grad`.

        Returns:
            The callable.

        Example:
            >>> import numpy as np, keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]))
            >>> f = eng.compiled("twice", lambda: (lambda v: v * 2), forward=True)
            >>> f is eng.compiled("twice", None)
            True
        """
        if key not in self._compiled:
            fn = build()
            if forward:
                inner = fn

                def fn(*args):
                    with gradients.no_grad():
                        return inner(*args)

            self._compiled[key] = fn
        return self._compiled[key]

    def logits_fn(self):
        """Compiled ``x -> logits`` (forward only).

        Returns:
            A callable.

        Example:
            >>> import numpy as np, keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]))
            >>> tuple(eng.logits_fn()(np.zeros((1, 2), "float32")).shape)
            (1, 3)
        """
        lm = self.logits
        return self.compiled(
            "logits", lambda: self.jit(lambda v: lm(v, training=False)), forward=True
        )

    def input_gradient_fn(self, backward=None):
        """Compiled ``(x, onehot, use_pred) -> (d target logit / d x, logits)``.

        Args:
            backward: ``None`` (the model's gradient), or ``(key, context)``: the gradient is
                taken inside ``context()`` (a context manager that modifies the backward pass,
                e.g. :func:`deepkit.viz.attribution.modified.modified_relus`), cached under ``key``.

        Returns:
            A callable.

        Example:
            >>> import numpy as np, keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]))
            >>> g, _ = eng.input_gradient_fn()(*[np.zeros(s, "float32") for s in ((1, 2), (1, 3), (1, 1))])
            >>> tuple(g.shape)
            (1, 2)
        """
        lm = self.logits

        def build():
            def score(x, onehot, use_pred):
                logits = lm(x, training=False)
                return ops.sum(logits * pick_target(logits, onehot, use_pred)), logits

            vg = gradients.value_and_grad(score, argnums=0, has_aux=True)

            def step(x, onehot, use_pred):
                if backward is None:
                    (_, logits), grad = vg(x, onehot, use_pred)
                else:
                    # Traced inside the context on compiling backends; run inside it on torch.
                    with backward[1]():
                        (_, logits), grad = vg(x, onehot, use_pred)
                return grad, logits

            return self.jit(step)

        return self.compiled("input_grad" if backward is None else ("input_grad", backward[0]), build)

    def score_fn(self, logit=False):
        """Compiled ``(x, onehot) -> probability (or logit) of each row's target class``.

        Args:
            logit: Return the logit instead of the probability.

        Returns:
            A callable (forward only).

        Example:
            >>> import numpy as np, keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)]))
            >>> p = eng.score_fn()(np.zeros((1, 2), "float32"), np.eye(4, dtype="float32")[:1])
            >>> [round(float(v), 3) for v in ops.convert_to_numpy(p)]
            [0.25]
        """
        lm = self.logits

        def build():
            def score(x, onehot):
                logits = lm(x, training=False)
                return ops.sum((logits if logit else _probabilities(logits)) * onehot, axis=-1)

            return self.jit(score)

        return self.compiled("logit" if logit else "prob", build, forward=True)

    # ------------------------------------------------------------------ chunked execution

    def _pads(self):
        return backend.capabilities().compiled_calls

    def chunks(self, total, batch_size):
        """``(start, stop, rows)`` chunks of ``total`` rows; ``rows`` is the compiled shape.

        Every chunk but the last has ``batch_size`` rows. On compiling backends the last is
        padded to the next power of two (at most ``batch_size``) when there are several
        chunks, so few shapes are compiled and a short remainder costs few rows; a single
        chunk and torch's chunks are never padded.

        Args:
            total: Number of rows.
            batch_size: Rows per call.

        Returns:
            A list of ``(start, stop, rows)``.

        Example:
            >>> import keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]))
            >>> [c[:2] for c in eng.chunks(5, 2)]
            [(0, 2), (2, 4), (4, 5)]
        """
        if total <= batch_size:
            return [(0, total, total)]
        pad = self._pads()
        out = []
        for start in range(0, total, batch_size):
            size = min(batch_size, total - start)
            if pad and size < batch_size:
                # The last chunk: the next power of two, so a remainder of 2 rows costs 2 rows
                # (not batch_size) and at most log2(batch_size) shapes are ever compiled.
                size = min(batch_size, 1 << (size - 1).bit_length())
            out.append((start, min(start + batch_size, total), size))
        return out

    def run(self, fn, arrays, batch_size):
        """Apply a compiled ``fn`` to ``arrays`` chunk by chunk; concatenate numpy outputs.

        Args:
            fn: A function of as many arrays as given, returning a tensor or a tuple.
            arrays: numpy arrays with the same first axis.
            batch_size: Rows per call.

        Returns:
            A numpy array (or a list of them when ``fn`` returns several).

        Example:
            >>> import numpy as np, keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]))
            >>> eng.run(eng.logits_fn(), [np.zeros((5, 2), "float32")], 2).shape
            (5, 3)
        """
        results, single = None, True
        for start, stop, rows in self.chunks(arrays[0].shape[0], batch_size):
            chunk = _pad_rows([a[start:stop] for a in arrays], rows)
            out = gradients.to_numpy(fn(*chunk))
            single = not isinstance(out, (tuple, list))
            out = [out] if single else list(out)
            out = [o[: stop - start] for o in out]
            if results is None:
                results = [[] for _ in out]
            for r, o in zip(results, out):
                r.append(o)
        joined = [np.concatenate(r, axis=0) for r in results]
        return joined[0] if single else joined

    def predict_logits(self, x, batch_size=64):
        """Logits of the model for checked inputs, chunked.

        Args:
            x: ``(N,) + input_shape`` float32 array.
            batch_size: Rows per call.

        Returns:
            float32 ``(N, C)``.

        Example:
            >>> import numpy as np, keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]))
            >>> eng.predict_logits(np.zeros((4, 2), "float32")).shape
            (4, 3)
        """
        return self.run(self.logits_fn(), [x], batch_size)

    def predict_classes(self, x, batch_size=64):
        """Predicted class of each input.

        Args:
            x: ``(N,) + input_shape`` float32 array.
            batch_size: Rows per call.

        Returns:
            int array ``(N,)``.

        Example:
            >>> import numpy as np, keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]))
            >>> eng.predict_classes(np.zeros((4, 2), "float32")).shape
            (4,)
        """
        return self.predict_logits(x, batch_size).argmax(axis=-1)

    def rows(self, n, samples, batch_size):
        """``(image_index, sample_index)`` arrays of the chunks of ``n * samples`` rows.

        Rows are image-major (all samples of image 0, then image 1, ...) and cut into chunks
        of ``batch_size`` rows regardless of image boundaries.

        Args:
            n: Number of images.
            samples: Rows per image.
            batch_size: Rows per call.

        Returns:
            A list of ``(image_index, sample_index, rows)``: int arrays and the compiled shape.

        Example:
            >>> import keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]))
            >>> [(i.tolist(), k.tolist()) for i, k, _ in eng.rows(2, 3, 4)]
            [([0, 0, 0, 1], [0, 1, 2, 0]), ([1, 1], [1, 2])]
        """
        out = []
        for start, stop, rows in self.chunks(n * samples, batch_size):
            flat = np.arange(start, stop)
            out.append((flat // samples, flat % samples, rows))
        return out

    def gradient_sums(self, x, onehot, samples, rows_and_weights, batch_size, groups=1, backward=None):
        """Weighted sums of input gradients over rows: the core of every gradient method.

        ``out[i, g] = sum_k weight(i, k) * d logit_target / d row(i, k)`` over the samples
        ``k`` of group ``g`` (``k // (samples // groups)``).

        Args:
            x: ``(N,) + input_shape`` checked inputs.
            onehot: ``(N, C)`` targets.
            samples: Rows per image.
            rows_and_weights: ``(image_index, sample_index) -> (rows, weights)``: the
                ``(R,) + input_shape`` rows and their gradient weights (an array
                broadcastable to the rows, or a scalar).
            batch_size: Rows per call.
            groups: Number of separate sums per image (``samples`` must divide evenly).
            backward: A modified backward pass (see :meth:`input_gradient_fn`).

        Returns:
            float32 ``(N, groups) + input_shape``.

        Example:
            >>> import numpy as np, keras
            >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(
            ...     1, kernel_initializer="ones")])
            >>> x = np.ones((3, 2), "float32")
            >>> s = engine(model).gradient_sums(x, np.ones((3, 1), "float32"), 1,
            ...                                 lambda i, k: (x[i], 1.0), 8)
            >>> s.shape, s[0, 0].tolist()
            ((3, 1, 2), [1.0, 1.0])
        """
        fn = self.input_gradient_fn(backward)
        n = len(x)
        per_group = samples // groups
        out = np.zeros((n * groups,) + x.shape[1:], "float32")
        for i, k, rows in self.rows(n, samples, batch_size):
            r, w = rows_and_weights(i, k)
            r = np.asarray(r, "float32")
            chunk = _pad_rows([r, onehot[i], np.zeros((len(r), 1), "float32")], rows)
            grad, _ = fn(*chunk)
            grad = gradients.to_numpy(grad)[: len(r)]
            w = np.asarray(w, "float32")
            if w.ndim:
                w = w.reshape(w.shape + (1,) * (grad.ndim - w.ndim))
            # Rows are image-major, so each (image, group) is one run of consecutive rows: sum
            # the runs, then add each run's sum once (np.add.at would be ~10x slower).
            key = i * groups + k // per_group
            starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            out[key[starts]] += np.add.reduceat(grad * w, starts, axis=0)
        return out.reshape((n, groups) + x.shape[1:])

    def row_scores(self, x, onehot, samples, make_rows, batch_size, logit=False):
        """Target-class probability (or logit) of ``samples`` rows per image.

        Args:
            x: ``(N,) + input_shape`` checked inputs.
            onehot: ``(N, C)`` targets.
            samples: Rows per image.
            make_rows: ``(image_index, sample_index) -> (R,) + input_shape`` rows.
            batch_size: Rows per call.
            logit: Score with the logit instead of the probability.

        Returns:
            float32 ``(N, samples)``.

        Example:
            >>> import numpy as np, keras
            >>> eng = engine(keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)]))
            >>> x = np.zeros((3, 2), "float32")
            >>> eng.row_scores(x, np.eye(2, dtype="float32")[[0, 1, 0]], 4,
            ...                lambda i, k: x[i], 5).round(2).tolist()[0]
            [0.5, 0.5, 0.5, 0.5]
        """
        fn = self.score_fn(logit)
        scores = np.zeros((len(x), samples), "float32")
        for i, k, rows in self.rows(len(x), samples, batch_size):
            r = np.asarray(make_rows(i, k), "float32")
            chunk = _pad_rows([r, onehot[i]], rows)
            scores[i, k] = gradients.to_numpy(fn(*chunk))[: len(r)]
        return scores


# The engine lives on its model (an attribute of deepkit's own), so model and engine form a
# cycle the garbage collector frees together; a WeakKeyDictionary would keep the model alive
# through the engine's strong references to it.
_ATTRIBUTE = "_deepkit_viz_engine"


def engine(model):
    """The :class:`Engine` of ``model``, built once and kept with the model.

    Args:
        model: A functional or Sequential classifier.

    Returns:
        The model's engine.

    Example:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
        >>> engine(model) is engine(model)
        True
    """
    if isinstance(model, Engine):
        return model
    found = model.__dict__.get(_ATTRIBUTE) if hasattr(model, "__dict__") else None
    if found is None:
        found = Engine(model)
        try:
            object.__setattr__(model, _ATTRIBUTE, found)
        except (AttributeError, TypeError):
            pass
    return found
