"""Untrusted files: hostile specs, .keras files and checkpoints are refused and nothing executes.

Every hostile payload tries to create a marker file; each test asserts the load is refused with a
clear message *and* that the marker does not exist. Hostile dataset files (pickled objects in an
.npz, a CIFAR batch with a code-running pickle, a tarball with links and ``..`` paths) are covered
in tests/datasets/test_images.py.
"""

import json
import os
import signal
import warnings
import zipfile

import keras
import numpy as np
import pytest
from keras.src.backend.common import global_state

import deepkit
from deepkit.cli import main as cli
from deepkit.errors import SpecError
from deepkit.train.checkpoint import CheckpointError, restore_checkpoint, save_checkpoint


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a hostile payload ran"


def touch(marker):
    return f"touch {marker}"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(spec, match):
    with pytest.raises(SpecError, match=match) as info:
        deepkit.from_spec(spec)
    return str(info.value)


# ----------------------------------------------------------------------------- YAML / JSON specs
@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "payload, column",
    [
        ("!!python/object/apply:os.system ['{cmd}']", 5),
        ("!!python/object/new:subprocess.Popen [['sh', '-c', '{cmd}']]", 5),
        ("{{Dense: {{units: 2, activation: !!python/name:os.system }}}}", 36),
        ("!!python/module:os", 5),
    ],
    ids=["object-apply", "object-new", "python-name", "python-module"],
)
def test_yaml_python_tags_are_refused_with_line_and_column(tmp_path, marker, payload, column):
    path = write(tmp_path, "evil.yaml", "input_shape: [3]\nlayers:\n  - " + payload.format(cmd=touch(marker)) + "\n")
    message = refused(path, r"malformed YAML: could not determine a constructor for the tag")
    assert message.startswith(f"{path}:3:{column}: ")
    assert "Tags that build Python objects are refused" in message


@pytest.mark.backend_independent
def test_yaml_tags_are_refused_through_the_cli(tmp_path, marker, capsys):
    path = write(tmp_path, "evil.yaml", f"input_shape: [3]\nlayers:\n  - !!python/object/apply:os.system ['{touch(marker)}']\n")
    assert cli(["summary", str(path)]) == 2
    assert "Tags that build Python objects are refused" in capsys.readouterr().err


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "entry, match",
    [
        ({"Lambda": {"function": "x"}}, r"layers\[0\]\.Lambda: 'Lambda' cannot be used in a spec: specs are data"),
        ({"class_name": "Lambda", "config": {"function": "x"}}, r"layers\[0\]: 'Lambda' cannot be used in a spec"),
        ({"TFSMLayer": {"filepath": "/tmp", "call_endpoint": "serve"}}, r"'TFSMLayer' cannot be used in a spec"),
        ({"TorchModuleWrapper": {}}, r"'TorchModuleWrapper' cannot be used in a spec"),
        ({"JaxLayer": {}}, r"'JaxLayer' cannot be used in a spec"),
    ],
    ids=["Lambda", "keras-style-Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer"],
)
def test_code_carrying_layers_are_refused_in_json_files(tmp_path, entry, match):
    path = write(tmp_path, "evil.json", json.dumps({"input_shape": [3], "layers": [entry]}))
    refused(path, match)


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "argument, value",
    [
        ("kernel_initializer", {"module": "os", "class_name": "system", "config": {"command": "{cmd}"}}),
        ("kernel_constraint", {"module": "subprocess", "class_name": "Popen", "config": {"args": ["sh", "-c", "{cmd}"]}}),
        ("kernel_regularizer", {"module": "builtins", "class_name": "eval",
                                "config": {"source": "__import__('os').system('{cmd}')"}}),
        ("activation", {"module": "os", "class_name": "function", "config": "system", "registered_name": "system"}),
        ("activation", "os.system"),
    ],
    ids=["initializer-os.system", "constraint-Popen", "regularizer-eval", "activation-function-import",
         "activation-dotted-name"],
)
def test_keras_object_configs_cannot_import_or_call(tmp_path, marker, argument, value):
    value = json.loads(json.dumps(value).replace("{cmd}", touch(marker)))
    spec = {"input_shape": [3], "layers": [{"Dense": {"units": 2, argument: value}}]}
    message = refused(write(tmp_path, "evil.json", json.dumps(spec)), r"layers\[0\]\.Dense(\.\w+)?: (cannot create Dense|a spec may only refer to keras or deepkit objects)")
    assert "evil.json" in message


def attacker_lambda(marker):
    # Runs its payload only in the "victim" phase (DEEPKIT_VICTIM set), so that building the
    # attacker's file, which traces the function, does not trip the marker.
    command = touch(marker)
    return lambda x: (__import__("os").environ.get("DEEPKIT_VICTIM") and __import__("os").system(command), x)[1]


def victim_phase(monkeypatch):
    monkeypatch.setenv("DEEPKIT_VICTIM", "1")


def serialized_lambda(marker):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return keras.saving.serialize_keras_object(attacker_lambda(marker))


@pytest.mark.backend_independent
def test_lambda_activation_in_a_spec_is_refused(tmp_path, marker, monkeypatch):
    spec = {"input_shape": [3], "layers": [{"Dense": {"units": 2, "activation": serialized_lambda(marker)}}]}
    path = write(tmp_path, "evil.json", json.dumps(spec))
    victim_phase(monkeypatch)
    refused(path, r"serialized Python lambdas are refused")


def test_lambda_in_a_spec_is_refused_even_when_keras_unsafe_deserialization_is_on(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    spec = {"input_shape": [3], "layers": [{"Dense": {"units": 2, "activation": serialized_lambda(marker)}}]}
    path = write(tmp_path, "evil.json", json.dumps(spec))
    victim_phase(monkeypatch)
    previous = global_state.get_global_attribute("safe_mode_saving")
    keras.config.enable_unsafe_deserialization()
    try:
        try:
            model = deepkit.from_spec(path)
            model(np.ones((1, 3), "float32"))
        except SpecError:
            pass
    finally:
        global_state.set_global_attribute("safe_mode_saving", previous)
    assert not marker.exists(), "the spec ran code"


def alias_bomb(levels=9, width=10):
    """YAML 'billion laughs': tiny text, width**levels nodes once aliases are expanded."""
    text = "input_shape: [3]\nlayers:\n  - Dense:\n      units: 2\n"
    text += f"      l0: &a0 [{', '.join(['lol'] * width)}]\n"
    for i in range(1, levels):
        text += f"      l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]\n"
    return text


@pytest.mark.backend_independent
def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    path = write(tmp_path, "bomb.yaml", alias_bomb())
    assert path.stat().st_size < 2000

    def too_slow(*_):
        raise TimeoutError("still parsing after 5 s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, 5)
    try:
        with pytest.raises(SpecError):
            deepkit.from_spec(path)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ----------------------------------------------------------------------------- .keras files
def lambda_model_file(tmp_path, marker):
    inp = keras.Input((3,))
    out = keras.layers.Lambda(attacker_lambda(marker))(inp)
    path = tmp_path / "evil.keras"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras.Model(inp, out).save(path)
    return path


def test_keras_file_with_lambda_is_refused_by_safe_mode(tmp_path, marker, monkeypatch):
    path = lambda_model_file(tmp_path, marker)
    victim_phase(monkeypatch)
    with pytest.raises(ValueError, match=r"`Lambda`.*safe_mode=False"):  # refused; Keras' wording varies
        keras.saving.load_model(path)
    # Loading only the weights of such a file reads arrays and never the function.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"does not fit model"):
            deepkit.models.load_weights(deepkit.from_spec([{"Dense": 2}], input_shape=(3,)), path)


def test_keras_file_with_lambda_is_refused_by_the_cli(tmp_path, marker, capsys, monkeypatch):
    path = lambda_model_file(tmp_path, marker)
    victim_phase(monkeypatch)
    assert cli(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: cannot be loaded in safe mode (nothing in a model file may run code)" in err and "Lambda" in err


def rewrite_keras_config(src, dst, edit):
    with zipfile.ZipFile(src) as z:
        files = {name: z.read(name) for name in z.namelist()}
    config = json.loads(files["config.json"])
    edit(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return dst


@pytest.fixture
def deepkit_model_file(tmp_path):
    model = deepkit.from_spec({"input_shape": [3], "layers": [{"Dense": 2}]})
    path = tmp_path / "model.keras"
    model.save(path)
    return path


def test_keras_file_naming_a_foreign_module_is_refused(tmp_path, marker, deepkit_model_file):
    def spoof(config):
        config.update(module="os", class_name="system", config={"command": touch(marker)})
        config.pop("registered_name", None)

    path = rewrite_keras_config(deepkit_model_file, tmp_path / "spoof.keras", spoof)
    with pytest.raises(TypeError, match=r"Could not locate class 'system'"):
        keras.saving.load_model(path)


def test_keras_file_with_a_hostile_deepkit_spec_is_refused(tmp_path, marker, deepkit_model_file):
    def lambda_layer(config):
        config["config"]["spec"]["layers"] = [{"Lambda": {"function": touch(marker)}}]

    path = rewrite_keras_config(deepkit_model_file, tmp_path / "lambda_spec.keras", lambda_layer)
    with pytest.raises(SpecError, match=r"'Lambda' cannot be used in a spec"):
        keras.saving.load_model(path)

    def yaml_tag(config):
        config["config"]["spec"] = f"layers:\n  - !!python/object/apply:os.system ['{touch(marker)}']\n"

    path = rewrite_keras_config(deepkit_model_file, tmp_path / "tag_spec.keras", yaml_tag)
    with pytest.raises(SpecError, match=r"must carry its spec as a mapping"):
        keras.saving.load_model(path)


def test_keras_file_cannot_point_the_loader_at_a_local_file(tmp_path, deepkit_model_file):
    secret = write(tmp_path, "secret.yaml", "input_shape: [3]\nlayers:\n  - Dense: 2\n")

    def path_trick(config):
        config["config"]["spec"] = str(secret)

    path = rewrite_keras_config(deepkit_model_file, tmp_path / "path_trick.keras", path_trick)
    with pytest.raises((SpecError, ValueError, TypeError)):
        keras.saving.load_model(path)


# ----------------------------------------------------------------------------- checkpoints
def test_checkpoint_with_pickled_object_is_refused(tmp_path, marker):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    directory = save_checkpoint(model, tmp_path / "ck", 1)

    class Payload:
        def __reduce__(self):
            return (os.system, (touch(marker),))

    evil = np.empty(1, dtype=object)
    evil[0] = Payload()
    with zipfile.ZipFile(os.path.join(directory, "state.npz")) as z:
        arrays = {n[:-4]: np.load(z.open(n)) for n in z.namelist()}
    arrays["model_0"] = evil
    np.savez(os.path.join(directory, "state.npz"), **arrays)
    with pytest.warns(RuntimeWarning, match="cannot be read"), \
            pytest.raises(CheckpointError, match=r"no readable checkpoint: .*Object arrays cannot be loaded"):
        restore_checkpoint(model, tmp_path / "ck")


def rewrite_member(src, dst, name, payload):
    """Copy a .keras archive with one member replaced by ``payload``, deflated (a zip bomb when it is repetitive)."""
    with zipfile.ZipFile(src) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files[name] = payload
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for n, data in files.items():
            z.writestr(n, data)
    return dst


@pytest.mark.backend_independent
def test_keras_config_zip_bomb_is_refused_before_inflating(tmp_path, deepkit_model_file, monkeypatch):
    """A config.json that inflates past the bound is refused from the archive's directory, unread (the whole
    pre-check used to inflate every member, then Keras read the config into memory). The bound is lowered so
    the bomb stays small here; the default is 64 MiB."""
    from deepkit.models import loading

    with zipfile.ZipFile(deepkit_model_file) as z:
        config = z.read("config.json")
    bomb = rewrite_member(deepkit_model_file, tmp_path / "bomb.keras", "config.json",
                          config[:-1] + b" " * (8 << 20) + config[-1:])  # valid JSON, 8 MiB of spaces
    assert os.path.getsize(bomb) < 64 << 10
    monkeypatch.setattr(loading, "MAX_JSON_BYTES", 4 << 20)
    inflated = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: inflated.append(a[1]) or pytest.fail("read"))
    with pytest.raises(loading.ModelFileError, match=r"member 'config.json' would inflate from [0-9,]+ to "
                                                       r"8,[0-9,]+ bytes, more than the 4,194,304 deepkit reads"):
        loading.load_model_file(str(bomb))
    assert inflated == []


@pytest.mark.backend_independent
def test_keras_weights_zip_bomb_is_refused_by_ratio(tmp_path, deepkit_model_file, capsys):
    """A weights member inflating over 100 times its compressed size (Keras stores members uncompressed)."""
    bomb = rewrite_member(deepkit_model_file, tmp_path / "weights_bomb.keras", "model.weights.h5",
                          bytes(48 << 20))  # 48 MiB of zeros: about 48 KiB deflated
    assert os.path.getsize(bomb) < 256 << 10
    assert cli(["summary", str(bomb)]) == 2
    err = capsys.readouterr().err
    assert "member 'model.weights.h5' would inflate from" in err and "more than the" in err and "refused" in err


@pytest.mark.backend_independent
def test_keras_member_inflating_past_its_declared_size_is_damaged(tmp_path, deepkit_model_file):
    """The declared size is not trusted: a member whose data inflate to more than declared is refused."""
    from deepkit.models import loading

    bomb = rewrite_member(deepkit_model_file, tmp_path / "liar.keras", "model.weights.h5", bytes(4 << 20))
    data = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(bomb) as z:
        info = z.getinfo("model.weights.h5")
    # Declare 1 KiB (local header and central directory): within every bound, but the data inflate to 4 MiB.
    central = data.rfind(b"model.weights.h5") - 46  # the central directory entry: its name is at +46
    assert data[central:central + 4] == b"PK\x01\x02"
    for offset in (info.header_offset + 22, central + 24):  # the uncompressed size in both headers
        data[offset:offset + 4] = (1024).to_bytes(4, "little")
    liar = tmp_path / "liar2.keras"
    liar.write_bytes(bytes(data))
    with zipfile.ZipFile(liar) as z:
        assert z.getinfo("model.weights.h5").file_size == 1024
    with pytest.raises(loading.ModelFileError, match=r"damaged .keras archive: .*model.weights.h5"):
        loading.load_model_file(str(liar))
