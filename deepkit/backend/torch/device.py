"""PyTorch's devices: the accelerator kind and free memory.

Example:
    >>> import keras
    >>> keras.backend.backend() != "torch" or accelerator_kind() in ("cpu", "gpu")
    True
"""

import torch


def accelerator_kind():
    """``"gpu"`` when CUDA is available, else ``"cpu"``.

    Returns:
        A string.

    Example:
        >>> accelerator_kind() in ("cpu", "gpu")
        True
    """
    return "gpu" if torch.cuda.is_available() else "cpu"


def free_memory():
    """Free memory of the CUDA device, or None without one.

    Returns:
        ``(bytes_free, device_name)`` or None.

    Example:
        >>> info = free_memory()
        >>> info is None or info[0] >= 0
        True
    """
    if torch.cuda.is_available():
        free, _ = torch.cuda.mem_get_info()
        return int(free), torch.cuda.get_device_name()
    return None
