"""The CLI on damaged or hostile files: one line on stderr naming the file and the problem, exit 2."""

import json
import os
import subprocess
import sys
import textwrap
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args, timeout=240):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "deepkit.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=ROOT)


def error_lines(stderr):
    """stderr without the lines TensorFlow/absl log at import."""
    return [line for line in stderr.splitlines()
            if line.strip() and not line.startswith(("WARNING: All log messages", "I0000", "E0000", "W0000"))]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A valid .keras file and its damaged variants, written by a subprocess (a fresh Keras)."""
    d = tmp_path_factory.mktemp("damaged")
    script = textwrap.dedent(f"""
        import keras
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        m.save({str(d / "good.keras")!r})
    """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, timeout=240,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    good = (d / "good.keras").read_bytes()
    with zipfile.ZipFile(d / "good.keras") as archive:
        members = {info.filename: (info, archive.read(info.filename)) for info in archive.infolist()}
    # Bad CRC: same archive, one byte of the weights file changed, the recorded CRC left as it was.
    bad_crc = bytearray(good)
    info, data = members["model.weights.h5"]
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    assert info.compress_type == zipfile.ZIP_STORED or info.compress_size > 16
    bad_crc[start + info.compress_size // 2] ^= 0xFF
    (d / "bad_crc.keras").write_bytes(bytes(bad_crc))
    (d / "truncated.keras").write_bytes(good[: len(good) // 2])
    (d / "nosig.h5").write_bytes(b"this is not an HDF5 file" * 10)
    config = json.loads(members["config.json"][1])
    config["config"]["layers"][-1]["class_name"] = "NoSuchLayer"
    with zipfile.ZipFile(d / "unknown_class.keras", "w") as archive:
        for name, (_, payload) in members.items():
            archive.writestr(name, json.dumps(config) if name == "config.json" else payload)
    (d / "existing.txt").write_text("not a folder\n")
    return d


@pytest.mark.backend_independent
@pytest.mark.parametrize("name, problem", [
    ("bad_crc.keras", r"damaged \.keras archive: member 'model\.weights\.h5' fails its CRC check"),
    ("truncated.keras", r"not a valid \.keras file: no zip archive found \([\d,]+ bytes; truncated"),
    ("nosig.h5", r"not an HDF5 file: it lacks the HDF5 signature"),
    # Keras' own explanation follows (its wording differs between releases: not deepkit's contract).
    ("unknown_class.keras", r"the file names the class .NoSuchLayer. of module .keras\.layers., which this Keras "),
    ("missing.keras", r"model file not found"),
])
def test_summary_of_a_damaged_file_is_one_line_and_exit_2(files, name, problem):
    import re

    path = str(files / name)
    result = run_cli("summary", path)
    lines = error_lines(result.stderr)
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"deepkit summary: error: {path}: "), lines[0]
    assert re.search(problem, lines[0]), lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.backend_independent
def test_report_out_naming_an_existing_file_is_one_line_and_exit_2(files):
    existing = str(files / "existing.txt")
    result = run_cli("report", str(files / "good.keras"), "--data", "digits", "--out", existing)
    lines = error_lines(result.stderr)
    assert result.returncode == 2, result.stderr
    assert lines == [f"deepkit report: error: {existing}: --out names an existing file; the report needs a "
                     "folder (give a new or existing folder name)"]
    assert (files / "existing.txt").read_text() == "not a folder\n"


@pytest.mark.backend_independent
def test_report_on_a_truncated_file_is_one_line_and_exit_2(files):
    path = str(files / "truncated.keras")
    result = run_cli("report", path, "--data", "digits", "--out", str(files / "r"))
    lines = error_lines(result.stderr)
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"deepkit report: error: {path}: not a valid .keras file"), lines[0]


def test_summary_of_a_huge_spec_counts_from_shapes(tmp_path):
    spec = tmp_path / "huge.yaml"
    spec.write_text("input_shape: [1000000]\nlayers:\n  - Dense: 1000000\n")
    result = run_cli("summary", str(spec))
    assert result.returncode == 0, result.stderr
    assert "1,000,001,000,000" in result.stdout
    assert "Total params: 1,000,001,000,000" in result.stdout
