"""The one free-memory probe: what the accelerator or the host has free now, and where the number comes from.

Used to refuse a model whose weights cannot fit (:func:`deepkit.summary.check_weights_fit`) and to size the data
the fast fit path keeps on the device (the backends' ``Loops.memory_budget``).

Example:
    >>> from deepkit.backend import memory
    >>> free, source = memory.host_available()
    >>> free is None or free > 0
    True
"""

import os
import sys

__all__ = ["host_available", "available"]


def _cgroup_free():
    """Memory left under a Linux cgroup limit (containers), or None."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file) as fh:
                limit = fh.read().strip()
            with open(usage_file) as fh:
                usage = int(fh.read().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:
            return max(0, int(limit) - usage)
    return None


def _windows_available():
    import ctypes

    class _Status(ctypes.Structure):
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                    ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                    ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                    ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                    ("sullAvailExtendedVirtual", ctypes.c_ulonglong)]

    status = _Status()
    status.dwLength = ctypes.sizeof(status)
    if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
        return int(status.ullAvailPhys)
    return None


def host_available():
    """Host memory available now, read portably, and where the number comes from.

    In order: ``psutil.virtual_memory().available`` when psutil is installed; Linux ``MemAvailable``
    (``/proc/meminfo``), lowered to a cgroup limit when the process runs in a container; Windows
    ``GlobalMemoryStatusEx``; POSIX ``sysconf`` free pages.

    Returns:
        ``(bytes, source)``, or ``(None, reason)`` when the platform does not say.

    Example:
        >>> free, source = host_available()
        >>> free is None or free > 0
        True
    """
    try:
        import psutil

        return int(psutil.virtual_memory().available), "psutil.virtual_memory().available"
    except ImportError:
        pass
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/meminfo") as fh:
                info = dict(line.split(":", 1) for line in fh if ":" in line)
            free = int(info["MemAvailable"].split()[0]) * 1024
        except (OSError, KeyError, ValueError):
            free = None
        if free is not None:
            cgroup = _cgroup_free()
            if cgroup is not None and cgroup < free:
                return cgroup, "the container's memory limit (cgroup)"
            return free, "MemAvailable in /proc/meminfo"
    if sys.platform == "win32":
        free = _windows_available()
        if free is not None:
            return free, "GlobalMemoryStatusEx"
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "sysconf free pages"
    except (ValueError, OSError, AttributeError):
        return None, "this platform does not report its free memory"


def available():
    """Memory new arrays can take now: the accelerator's free memory where the backend reports it, else the host's.

    Returns:
        ``(bytes, source)``, or ``(None, reason)`` when nothing says.

    Example:
        >>> free, source = available()
        >>> free is None or free > 0
        True
    """
    from deepkit import backend

    device = backend.device_memory()
    if device is not None:
        return device[0], f"free memory of {device[1]}"
    return host_available()
