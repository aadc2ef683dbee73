"""One page's experiment: its points, its real Keras model, and the frames it streams.

A :class:`Session` builds the network of its settings as a deepkit spec (:func:`network_spec`) into a
:class:`deepkit.Model`, compiles it with the chosen optimizer and the problem's loss, and trains it
with the fast fit path's compiled loops (:func:`deepkit.backend.fit_loop`): one update is one pass over
the training points (the Playground's "epoch"), its full batches in one compiled call. After each
update one compiled forward pass over the grid and the points gives every neuron's map, the output
map and both losses (:meth:`Session.frame`). Backends without compiled loops (torch) train with
Keras' ``train_on_batch``, batch by batch, instead.

Every method touches Keras: the server calls them from its one model thread only
(:class:`deepkit.playground.worker.Worker`).

Example:
    >>> from deepkit.playground.config import checked
    >>> s = Session("a", checked({"networkShape": [3], "grid": 8}))
    >>> s.build()
    >>> frame = s.update()
    >>> frame["epoch"], len(frame["maps"]), len(frame["maps"][0])
    (1, 1, 3)
"""

import base64
import io
import os
import tempfile
import time

import numpy as np

import keras

import deepkit
from deepkit import backend
from deepkit.backend import keras_internals as internals
from deepkit.playground import data as pdata
from deepkit.playground import config as pconfig
from deepkit.playground.config import FEATURES, to_query

__all__ = ["Session", "network_spec", "encode_map"]


def network_spec(config, problem):
    """The deepkit spec (a dict) of a playground network.

    Args:
        config: a settings dict (features, networkShape, activation, regularization, seed).
        problem: ``"classification"`` (one sigmoid unit) or ``"regression"`` (one linear unit).

    Returns:
        A spec for :func:`deepkit.from_spec`: ``Dense`` layers named ``hidden_1``, ..., ``output``.

    Example:
        >>> from deepkit.playground.config import DEFAULTS
        >>> spec = network_spec(DEFAULTS, "classification")
        >>> spec["input_shape"], [list(e["Dense"].values())[:2] for e in spec["layers"]]
        ([2], [[4, 'tanh'], [2, 'tanh'], [1, 'sigmoid']])
    """
    reg = None
    if config["regularization"] != "none" and config["regularizationRate"] > 0:
        reg = {config["regularization"]: float(config["regularizationRate"])}
    sizes = list(config["networkShape"]) + [1]
    layers = []
    for i, units in enumerate(sizes):
        last = i == len(sizes) - 1
        entry = {"units": int(units),
                 "activation": ("sigmoid" if problem == "classification" else "linear") if last
                 else config["activation"],
                 "name": "output" if last else f"hidden_{i + 1}",
                 "kernel_initializer": {"GlorotUniform": {"seed": int(config["seed"]) * 101 + i}}}
        if reg:
            entry["kernel_regularizer"] = dict(reg)
        layers.append({"Dense": entry})
    inputs = ", ".join(FEATURES[f] for f in config["features"])
    return {"name": "playground",
            "description": f"deepkit playground: {problem} of {config['dataset']}; inputs {inputs}",
            "input_shape": [len(config["features"])], "layers": layers}


def encode_map(values, scale=1.0):
    """A map of values in [-scale, scale] as base64 bytes (1 = -scale, 128 = 0, 255 = +scale), for the page.

    Args:
        values: an array of numbers.
        scale: the magnitude drawn at full colour.

    Returns:
        The base64 text of one byte per value.

    Example:
        >>> base64.b64decode(encode_map(np.array([-1.0, 0.0, 1.0, 5.0]))).hex()
        '0180ffff'
    """
    v = np.clip(np.nan_to_num(np.asarray(values, np.float64)) / scale, -1.0, 1.0)
    return base64.b64encode((np.round(v * 127) + 128).astype(np.uint8).tobytes()).decode()


def _optimizer(config):
    lr = float(config["learningRate"])
    if config["optimizer"] == "adam":
        return keras.optimizers.Adam(lr)
    if config["optimizer"] == "momentum":
        return keras.optimizers.SGD(lr, momentum=0.9)
    return keras.optimizers.SGD(lr)


def _loss_value(problem, predicted, target):
    """The problem's loss in numpy, as Keras computes it (binary cross-entropy with its 1e-7 clip, or MSE)."""
    p = predicted.reshape(-1).astype(np.float64)
    t = target.reshape(-1).astype(np.float64)
    if len(t) == 0:
        return None
    if problem == "classification":
        p = np.clip(p, 1e-7, 1 - 1e-7)
        value = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    else:
        value = np.mean((p - t) ** 2)
    return float(value) if np.isfinite(value) else None  # a diverged network: no number to show


def _finite(variable):
    return np.round(np.nan_to_num(np.asarray(variable, np.float64), posinf=1e6, neginf=-1e6), 4).tolist()


class Session:
    """A page's experiment: settings, points, model, training state and the latest frame.

    Args:
        session_id: the id the page uses.
        config: a complete settings dict.
        notes: notes to show on the page (from reading its URL).

    Example:
        >>> from deepkit.playground.config import DEFAULTS
        >>> Session("x", dict(DEFAULTS)).playing
        False
    """

    def __init__(self, session_id, config, notes=()):
        self.id = session_id
        self.config = config
        self.notes = list(notes)
        self.uploaded = None
        self.playing = False
        self.epoch = 0
        self.resets = 0
        self.seq = 0
        self.last_seen = time.monotonic()
        self.latest = None
        self.model = None
        self.points = None
        self.fast = ""

    # ---------------------------------------------------------------------------- building
    def build(self):
        """(Re)make the points and a fresh model from the settings; epoch back to 0.

        Returns:
            None.

        Example:
            >>> from deepkit.playground.config import checked
            >>> s = Session("b", checked({"networkShape": [2], "grid": 8})); s.build()
            >>> s.model.count_params()
            9
        """
        self._release()
        self.builds = getattr(self, "builds", 0) + 1  # frames say which model they show
        config = self.config
        self.points = pdata.make_points(config, self.uploaded)
        self.problem = self.points.problem
        names = config["features"]
        self.x_train = pdata.features(self.points.x_train, names)
        self.x_test = pdata.features(self.points.x_test, names)
        self.y_train = self.points.y_train.reshape(-1, 1)
        self.grid = pdata.grid_points(config["grid"])
        self.grid_features = pdata.features(self.grid, names)
        self.probe_input = np.concatenate([self.grid_features, self.x_train, self.x_test])
        spec = network_spec(dict(config, seed=config["seed"] + self.resets), self.problem)
        model = deepkit.from_spec(spec)
        model.compile(optimizer=_optimizer(config),
                      loss="binary_crossentropy" if self.problem == "classification" else "mse")
        self.model = model
        self.dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        self.probe = keras.Model(model.input, [layer.output for layer in self.dense])
        self.shuffler = keras.random.SeedGenerator(int(config["seed"]) + 7 * self.resets)
        self.fallback_rng = np.random.default_rng(int(config["seed"]) + 7 * self.resets)
        self.epoch = 0
        self.loops = None
        self.fast = backend.fit_loop_unsupported(model)
        if not self.fast:
            batch = min(config["batchSize"], len(self.x_train))
            first = (self.x_train[:batch], self.y_train[:batch], None)
            internals.symbolic_build(model, first)
            try:
                # in_graph_loop: an update's steps in one compiled lax.scan on jax also on CPU (where the
                # fast path's default is one call a step): 2x the updates per second for the Playground's nets.
                self.loops = backend.fit_loop(model, in_graph_loop=True)
                self.device_data = self.loops.put((self.x_train, self.y_train, None))
                full, rem = divmod(len(self.x_train), batch)
                self.loops.prepare(self.device_data, True, ([batch] if full else []) + ([rem] if rem else []),
                                   None, ())
            except backend.FastPathUnsupported as e:
                self.fast, self.loops = str(e), None
        self.latest = self.frame()

    def _release(self):
        if getattr(self, "loops", None) is not None:
            try:
                self.loops.finish()
            except Exception:  # noqa: BLE001 - the model is dropped anyway
                pass
            self.loops = None

    def close(self):
        """Let go of the model and its compiled loops.

        Returns:
            None.

        Example:
            >>> from deepkit.playground.config import DEFAULTS
            >>> Session("c", dict(DEFAULTS)).close()
        """
        self._release()
        self.model = self.probe = None

    # ---------------------------------------------------------------------------- training
    def update(self):
        """Train one pass over the training points (one epoch) and make the frame after it.

        Returns:
            The new frame (see :meth:`Session.frame`).

        Example:
            >>> from deepkit.playground.config import checked
            >>> s = Session("d", checked({"networkShape": [], "grid": 8})); s.build()
            >>> s.update()["epoch"], s.update()["epoch"]
            (1, 2)
        """
        n = len(self.x_train)
        batch = min(self.config["batchSize"], n)
        if self.loops is not None:
            full, rem = divmod(n, batch)
            perm = keras.random.shuffle(keras.ops.arange(n, dtype="int32"), seed=self.shuffler)
            if full:
                self.loops.train(self.device_data, perm, 0, 0, full, batch)
            if rem:
                self.loops.train(self.device_data, perm, full * batch, 0, 1, rem)
            self.loops.sync()
        else:  # no compiled loops on this backend (torch): Keras' own step, batch by batch
            order = self.fallback_rng.permutation(n)
            for start in range(0, n, batch):
                rows = order[start:start + batch]
                self.model.train_on_batch(self.x_train[rows], self.y_train[rows])
        self.epoch += 1
        self.latest = self.frame()
        return self.latest

    def predict(self, points):
        """The model's output at points of the plane (their features are computed here).

        Args:
            points: (N, 2) coordinates.

        Returns:
            float32 (N,): the probability of class 1, or the regression value.

        Example:
            >>> from deepkit.playground.config import checked
            >>> s = Session("e", checked({"grid": 8})); s.build()
            >>> s.predict(np.zeros((3, 2))).shape
            (3,)
        """
        x = pdata.features(np.asarray(points, np.float32).reshape(-1, 2), self.config["features"])
        return np.asarray(self.model.predict_on_batch(x), np.float32).reshape(-1)

    def frame(self):
        """The state after the last update: losses, every neuron's map, the output map, weights.

        Returns:
            A JSON-ready dict: ``seq``, ``build`` (which model: it counts the rebuilds), ``epoch``, ``loss`` (``train``, ``test``), ``maps`` (per hidden
            layer, per neuron: ``[base64 map, scale]``), ``output`` (base64 map of 2p-1, or the value),
            ``weights`` (per layer: kernel rows ``[input][neuron]``), ``biases``.

        Example:
            >>> from deepkit.playground.config import checked
            >>> s = Session("f", checked({"networkShape": [2], "grid": 8})); s.build()
            >>> sorted(s.frame())
            ['biases', 'build', 'epoch', 'loss', 'maps', 'output', 'playing', 'seq', 'weights']
        """
        outs = self.probe.predict_on_batch(self.probe_input)
        outs = [np.asarray(o, np.float32) for o in (outs if isinstance(outs, (list, tuple)) else [outs])]
        g = len(self.grid_features)
        n_train = len(self.x_train)
        maps = []
        for layer_out in outs[:-1]:
            grid_part = layer_out[:g]
            scales = np.maximum(1.0, np.nan_to_num(np.abs(grid_part), posinf=1e6).max(axis=0))
            maps.append([[encode_map(grid_part[:, j], scales[j]), round(float(scales[j]), 4)]
                         for j in range(grid_part.shape[1])])
        final = outs[-1][:, 0]
        shown = 2 * final[:g] - 1 if self.problem == "classification" else final[:g]
        self.seq += 1
        return {
            "seq": self.seq,
            "build": self.builds,
            "epoch": self.epoch,
            "playing": self.playing,
            "loss": {"train": _loss_value(self.problem, final[g:g + n_train], self.points.y_train),
                     "test": _loss_value(self.problem, final[g + n_train:], self.points.y_test)},
            "maps": maps,
            "output": encode_map(shown),
            "weights": [_finite(layer.kernel) for layer in self.dense],
            "biases": [_finite(layer.bias) for layer in self.dense],
        }

    # ---------------------------------------------------------------------------- describing
    def state(self):
        """Everything the page needs after a (re)build: settings, points, feature maps, the frame.

        Returns:
            A JSON-ready dict.

        Example:
            >>> from deepkit.playground.config import checked
            >>> s = Session("g", checked({"grid": 8})); s.build()
            >>> s.state()["query"].startswith("dataset=circle")
            True
        """
        p = self.points

        def pts(x, y):
            return np.round(np.concatenate([x, y.reshape(-1, 1)], 1), 3).tolist()

        grid = self.grid
        feature_maps = {}
        for name in FEATURES:
            values = pdata.features(grid, [name])[:, 0]
            feature_maps[name] = encode_map(values, max(1.0, float(np.abs(values).max())))
        return {
            "session": self.id, "build": self.builds, "config": self.config, "query": to_query(self.config), "notes": self.notes,
            "problem": self.problem, "dataNote": p.note, "backend": keras.backend.backend(),
            "fastPath": not self.fast, "fastReason": self.fast,
            "points": {"train": pts(p.x_train, p.y_train), "test": pts(p.x_test, p.y_test)},
            "featureMaps": feature_maps, "frame": self.latest, "playing": self.playing,
            "featureLabels": FEATURES, "limits": pconfig.LIMITS,
            "presets": {name: title for name, (title, _) in pconfig.PRESETS.items()},
            "options": {"activations": pconfig.ACTIVATIONS, "optimizers": pconfig.OPTIMIZERS,
                        "regularizations": pconfig.REGULARIZATIONS, "problems": pconfig.PROBLEMS},
        }

    # ---------------------------------------------------------------------------- exporting
    def spec_yaml(self):
        """The trained network's deepkit spec as YAML, with a comment naming its inputs.

        Returns:
            The YAML text (``deepkit.from_spec`` builds it).

        Example:
            >>> from deepkit.playground.config import checked
            >>> s = Session("h", checked({"grid": 8})); s.build()
            >>> "Dense" in s.spec_yaml()
            True
        """
        inputs = ", ".join(FEATURES[f] for f in self.config["features"])
        return (f"# deepkit playground export: {self.problem}, dataset {self.config['dataset']}\n"
                f"# inputs, in this order: {inputs} (points on the plane [-6, 6]^2)\n"
                f"# settings: ?{to_query(self.config)}\n" + self.model.to_spec("yaml"))

    def keras_bytes(self):
        """The trained model as the bytes of a ``.keras`` file.

        Returns:
            bytes.

        Example:
            >>> from deepkit.playground.config import checked
            >>> s = Session("i", checked({"grid": 8})); s.build()
            >>> s.keras_bytes()[:2]
            b'PK'
        """
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "playground.keras")
            self.model.save(path)
            with open(path, "rb") as f:
                return f.read()

    def data_npz_bytes(self):
        """The points' features and targets as an ``.npz`` (``x_train, y_train, x_test, y_test``).

        Classification targets are int32 labels, so ``deepkit report --data`` reads it as a data set.

        Returns:
            bytes.

        Example:
            >>> from deepkit.playground.config import checked
            >>> s = Session("j", checked({"grid": 8})); s.build()
            >>> sorted(np.load(io.BytesIO(s.data_npz_bytes())).files)
            ['x_test', 'x_train', 'y_test', 'y_train']
        """
        kind = np.int32 if self.problem == "classification" else np.float32
        buffer = io.BytesIO()
        np.savez(buffer, x_train=self.x_train, y_train=self.points.y_train.astype(kind),
                 x_test=self.x_test, y_test=self.points.y_test.astype(kind))
        return buffer.getvalue()
