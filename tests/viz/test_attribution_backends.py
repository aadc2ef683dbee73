"""The three Keras backends give the same attribution maps for the same weights.

A digits CNN is trained here on the current backend and saved as ``.keras``; the other two
backends (TensorFlow, JAX, PyTorch minus the current one) load it in subprocesses with
``KERAS_BACKEND`` set (run in parallel) and compute every registered attribution method
(``deepkit.viz.attribution.list_methods()``) for the same images; each subprocess first checks the gradient shim
against an analytic gradient. Tolerance: every map is divided by its image's maximum |value|, and the
normalised maps must agree to 1e-4 (float32 convolutions in different libraries differ by
about 1e-6 relative; 1e-4 leaves room for summation order in the gradients while any real
difference, such as a different target class or layer, changes maps by O(0.1)).
"""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from deepkit.viz import attribution as A
from tests import ROOT
from tests.viz.attribution_models import trained_digits_cnn

TOLERANCE = 1e-4
BACKENDS = ("tensorflow", "jax", "torch")

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import keras
    from deepkit.viz import attribution as A
    from deepkit.backend.gradients import jit, to_numpy, value_and_grad

    # The gradient shim against an analytic gradient: d/dx sum(tanh(x W)) = (1 - t^2) W^T.
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 4)).astype("float32")
    v = rng.normal(size=(5, 3)).astype("float32")
    layer = keras.layers.Dense(4, use_bias=False, activation="tanh")
    layer.build((None, 3))
    layer.kernel.assign(w)
    value, grad = jit(value_and_grad(lambda a: keras.ops.sum(layer(a))), models=[layer])(v)
    t = np.tanh(v @ w)
    assert abs(float(to_numpy(value)) - t.sum()) < 1e-4, (value, t.sum())
    np.testing.assert_allclose(to_numpy(grad), (1 - t ** 2) @ w.T, rtol=1e-5, atol=1e-6)

    model = keras.saving.load_model(sys.argv[1])
    data = np.load(sys.argv[2])
    x, y = data["x"], data["y"]
    # OPTIONS
    maps = {name: A.get_method(name).function(model, x, class_index=y, batch_size=16,
                                              **OPTIONS(name))
            for name in A.list_methods()}
    np.savez(sys.argv[3], backend=keras.backend.backend(),
             predicted=np.argmax(model.predict(x, verbose=0), 1), **maps)
    """
)


OPTIONS_SOURCE = textwrap.dedent(
    """
    def OPTIONS(name):
        # Options of each registered method: its quick ones, conv2 for the CAMs, 8 IG steps.
        method = A.get_method(name)
        options = dict(method.quick)
        if method.needs_layer:
            options["layer"] = "conv2"
        if name == "integrated_gradients":
            options["steps"] = 8
        return options
    """
)
exec(OPTIONS_SOURCE)  # the same options here and in the subprocesses
SCRIPT = SCRIPT.replace("# OPTIONS", OPTIONS_SOURCE, 1)


def _maps(model, x, y):
    maps = {name: A.get_method(name).function(model, x, class_index=y, batch_size=16, **OPTIONS(name))
            for name in A.list_methods()}
    maps["predicted"] = np.argmax(model.predict(x, verbose=0), 1)
    return maps


def _normalised(m):
    peak = np.abs(m).reshape(len(m), -1).max(axis=1).reshape((-1,) + (1,) * (m.ndim - 1))
    return m / np.where(peak > 0, peak, 1.0)


@pytest.mark.slow  # two interpreter start-ups (jax, torch / tensorflow): ~25-50 s on 2 CPUs
@pytest.mark.backends("tensorflow", reason="compares every backend itself: once per suite is enough")
def test_same_maps_on_every_backend(tmp_path):
    model, x, y, _ = trained_digits_cnn()
    xs, ys = x[1500:1540], y[1500:1540]
    path = tmp_path / "digits.keras"
    model.save(path)
    np.savez(tmp_path / "inputs.npz", x=xs, y=ys)
    script = tmp_path / "maps.py"
    script.write_text(SCRIPT)
    current = keras.backend.backend()
    others = [b for b in BACKENDS if b != current]
    env_base = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    repo = ROOT
    env_base["PYTHONPATH"] = repo + os.pathsep + env_base.get("PYTHONPATH", "")
    procs = {}
    for backend in others:
        out = tmp_path / f"{backend}.npz"
        procs[backend] = (
            subprocess.Popen(
                [sys.executable, str(script), str(path), str(tmp_path / "inputs.npz"), str(out)],
                env=dict(env_base, KERAS_BACKEND=backend),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            ),
            out,
        )
    reference = _maps(model, xs, ys)
    for backend, (proc, out) in procs.items():
        log, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{backend} subprocess failed:\n{log.decode()[-3000:]}"
        got = np.load(out)
        assert str(got["backend"]) == backend
        np.testing.assert_array_equal(got["predicted"], reference["predicted"])
        for name in A.list_methods():  # every registered method
            diff = np.abs(_normalised(got[name]) - _normalised(reference[name])).max()
            print(f"\n{current} vs {backend}: {name} max normalised difference {diff:.2e}")
            assert diff < TOLERANCE, f"{name}: {current} vs {backend} differ by {diff:.2e}"
