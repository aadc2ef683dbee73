"""PyTorch checkpoint files (``.pth``/``.pt``/``.th``) read as numpy arrays, tensors only.

The one place deepkit calls ``torch.load``: always with ``weights_only=True`` (PyTorch's restricted
unpickler: tensors, containers and numbers; a pickle that names any other callable is refused before it
runs) and ``map_location="cpu"``. ``deepkit.models.state_dict`` turns the result into a flat state dict.

Example:
    >>> torch_available() in (True, False)
    True
"""

import importlib.util

__all__ = ["torch_available", "load_torch_checkpoint"]


def torch_available():
    """Whether PyTorch is installed (it is needed for ``.pth`` files only; ``.safetensors`` needs none).

    Returns:
        A bool.

    Example:
        >>> isinstance(torch_available(), bool)
        True
    """
    return importlib.util.find_spec("torch") is not None


def load_torch_checkpoint(path):
    """``torch.load(path, weights_only=True)`` with every tensor turned into a numpy array.

    Args:
        path: a ``.pth``/``.pt``/``.th`` file.

    Returns:
        The loaded object (usually a dict) with tensors replaced by float32/int numpy arrays.

    Raises:
        ImportError: torch is not installed.
        ValueError: the file is not a PyTorch checkpoint, is truncated, or its pickle names something
            other than tensors (refused without running it); one line.

    Example:
        >>> try:
        ...     load_torch_checkpoint("missing.pth")
        ... except (ImportError, ValueError) as exc:  # ImportError without torch
        ...     print(str(exc).split(":")[0])
        missing.pth
    """
    if not torch_available():
        raise ImportError(f"{path}: reading a .pth/.pt/.th checkpoint needs PyTorch (pip install torch); "
                          "a .safetensors file needs no PyTorch")
    import torch

    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError (refused global), RuntimeError (truncated zip), OSError...
        first = " ".join(str(exc).split())[:300]
        hint = ""
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            hint = " (deepkit loads tensors only: this pickle would run code or build objects, and was refused)"
        raise ValueError(f"{path}: cannot read the PyTorch checkpoint: {type(exc).__name__}: {first}{hint}") from None
    return _to_numpy(loaded, torch)


def _to_numpy(value, torch):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, dict):
        return {k: _to_numpy(v, torch) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_numpy(v, torch) for v in value)
    return value
