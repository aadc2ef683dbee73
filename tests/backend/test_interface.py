"""deepkit/backend/interface.py and the switch: every backend package implements every declared member, and
what each declares it can do is what it does."""

import importlib.util
import inspect

import keras
import numpy as np
import pytest

from deepkit import backend
from deepkit.backend import interface
from deepkit.backend.interface import MEMBERS, Backend, Capabilities
from deepkit.backend.loops import FastPathUnsupported

ALL = sorted(backend.PACKAGES)


def _installed(name):
    return name == "numpy" or importlib.util.find_spec(name) is not None


@pytest.mark.backend_independent
@pytest.mark.parametrize("name", ALL)
def test_every_backend_package_implements_every_declared_member(name):
    impl = backend.get(name)
    assert isinstance(impl, Backend) and impl.name == name
    assert isinstance(impl.capabilities, Capabilities)
    for member in MEMBERS:
        assert hasattr(impl, member), (name, member)
    assert not getattr(type(impl), "__abstractmethods__", None), (name, type(impl).__abstractmethods__)
    # Each abstract method is overridden with the interface's signature (extra defaults allowed).
    for member in Backend.__abstractmethods__:
        declared = list(inspect.signature(getattr(Backend, member)).parameters)
        actual = list(inspect.signature(getattr(type(impl), member)).parameters)
        assert actual == declared, (name, member, actual, declared)


@pytest.mark.backend_independent
def test_a_backend_missing_a_member_cannot_be_made():
    class Partial(Backend):
        name = "partial"

        def value_and_grad(self, fn, argnums, has_aux):
            return None

    with pytest.raises(TypeError, match="abstract"):
        Partial()


@pytest.mark.backend_independent
def test_the_switch_picks_a_backend_once_and_names_what_is_unknown():
    assert backend.get() is backend.get(keras.backend.backend()) is backend.active()
    assert backend.active().name == backend.name()
    with pytest.raises(ValueError, match="Received: backend='mxnet'"):
        backend.get("mxnet")


@pytest.mark.backend_independent
def test_capabilities_are_consistent_with_each_other_and_the_packages():
    for name in ALL:
        caps = backend.capabilities(name)
        has = {part: importlib.util.find_spec(f"{backend.PACKAGES[name]}.{part}") is not None
               for part in ("gradients", "loops", "distribute")}
        assert caps.fit_loops == has["loops"], name  # compiled loops live in <name>/loops.py
        assert caps.native_distribution == has["distribute"], name
        assert caps.gradients == has["gradients"], name
        assert not caps.compiled_calls or caps.gradients, name  # compiled calls are of differentiable code
        assert (caps.fit_loops and caps.compiled_calls) or not caps.fit_loops, name
        assert (backend.get(name).fit_loop_unsupported() == "") == caps.fit_loops, name
    assert backend.with_capability("fit_loops") == [n for n in backend.PACKAGES if backend.capabilities(n).fit_loops]


@pytest.mark.backend_independent
@pytest.mark.parametrize("name", [n for n in ALL if not backend.capabilities(n).fit_loops])
def test_a_backend_without_loops_says_which_have_them(name):
    impl = backend.get(name)
    reason = impl.fit_loop_unsupported()
    assert ", ".join(sorted(backend.with_capability("fit_loops"))) in reason and f"Received: backend={name!r}" in reason
    with pytest.raises(FastPathUnsupported, match=f"Received: backend={name!r}"):
        impl.make_fit_loop(keras.Sequential([keras.layers.Dense(1)]))


@pytest.mark.backend_independent
@pytest.mark.parametrize("name", [n for n in ALL if not backend.capabilities(n).virtual_cpu_devices])
def test_virtual_cpu_devices_refused_where_not_declared(name):
    with pytest.raises(RuntimeError, match=f"not supported on the {name!r} backend"):
        backend.get(name).virtual_cpu_devices(2)


def test_the_active_backend_does_what_it_declares():
    caps = backend.capabilities()
    x = np.array([1.0, 2.0], "float32")
    if caps.gradients:
        value, grad = backend.gradients.value_and_grad(lambda t: keras.ops.sum(t ** 2))(x)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(grad), 2 * x)
    else:
        with pytest.raises(NotImplementedError, match="cannot differentiate"):
            backend.gradients.value_and_grad(lambda t: keras.ops.sum(t))(x)
    runs = []
    compiled = backend.gradients.jit(lambda t: runs.append(1) or t * 2.0)
    for _ in range(3):
        compiled(x)
    assert (len(runs) < 3) == caps.compiled_calls, runs  # a compiled call runs the Python body when it traces
    assert backend.accelerator_kind() in ("cpu", "gpu", "tpu")
    with backend.gradients.no_grad():
        pass


def test_the_numpy_backend_refuses_gradients_with_a_clear_message():
    with pytest.raises(NotImplementedError, match="Received: backend='numpy'"):
        backend.get("numpy").value_and_grad(lambda t: t, 0, False)
    assert backend.get("numpy").free_memory() is None and backend.get("numpy").accelerator_kind() == "cpu"


@pytest.mark.backend_independent
def test_the_interface_lists_the_five_concerns():
    names = set(MEMBERS)
    assert {"value_and_grad", "jit", "no_grad"} <= names  # gradients
    assert {"fit_loop_unsupported", "make_fit_loop"} <= names  # loops
    assert {"accelerator_kind", "free_memory", "virtual_cpu_devices"} <= names  # device
    assert {"data_parallel", "multi_worker"} <= names  # distribution
    assert "capabilities" in names and interface.Capabilities().gradients is False
