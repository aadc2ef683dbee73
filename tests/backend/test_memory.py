"""deepkit/backend/memory.py: the one free-memory probe, used by the summary's weight check and the fast path."""

import importlib
import pathlib

import pytest

from deepkit import backend
from deepkit.backend import memory

summary = importlib.import_module("deepkit.summary")  # deepkit.summary is also the function


def test_host_available_reads_a_positive_number_and_says_where_from():
    free, source = memory.host_available()
    assert free is None or free > 0
    assert isinstance(source, str) and source


def test_available_prefers_the_accelerator(monkeypatch):
    monkeypatch.setattr(backend, "device_memory", lambda: (123, "gpu:0"))
    assert memory.available() == (123, "free memory of gpu:0")
    monkeypatch.setattr(backend, "device_memory", lambda: None)
    assert memory.available() == memory.host_available() or memory.available()[0] > 0


def test_the_summary_and_the_loops_ask_the_one_probe(monkeypatch):
    monkeypatch.setattr(memory, "available", lambda: (7, "planted"))
    assert summary.available_memory() == (7, "planted")
    for name in backend.with_capability("fit_loops"):
        source = (pathlib.Path(backend.__path__[0]) / name / "loops.py").read_text()
        assert "memory.available()" in source or "memory.host_available()" in source, name
        assert "sysconf" not in source and "memory_stats" not in source, name


@pytest.mark.backend_independent
def test_a_cgroup_limit_below_meminfo_wins(monkeypatch, tmp_path):
    if not memory.sys.platform.startswith("linux"):
        pytest.skip("Linux /proc/meminfo")
    import builtins

    real_open = builtins.open
    files = {"/proc/meminfo": "MemAvailable:    4000000 kB\n", "/sys/fs/cgroup/memory.max": "1048576\n",
             "/sys/fs/cgroup/memory.current": "1024\n"}

    def fake_open(path, *args, **kwargs):
        if path in files:
            target = tmp_path / path.strip("/").replace("/", "_")
            target.write_text(files[path])
            return real_open(target, *args, **kwargs)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setitem(__import__("sys").modules, "psutil", None)  # import psutil -> ImportError
    assert memory.host_available() == (1048576 - 1024, "the container's memory limit (cgroup)")
