"""Logit parity of every PyTorch layout the zoo reads: max |logit difference| and argmax agreement.

Uses the reference modules and the ``parity()`` helper of tests/models/test_torch_parity.py (needs torch and
safetensors); prints a Markdown table, one row per model (benchmarks/README.md, "logit parity").

    KERAS_BACKEND=jax python benchmarks/parity_table.py
"""

import os
import pathlib
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.models import test_torch_parity as t  # noqa: E402

VGG = {"fc_units": 64}
ROWS = [("cifar_resnet20", 32, "pth", {}), ("cifar_resnet32", 32, "safetensors", {}),
        ("cifar_resnet44", 32, "pth", {}), ("cifar_resnet56", 32, "safetensors", {}),
        ("cifar_resnet110", 32, "pth", {}),
        ("resnet18", 64, "safetensors", {}), ("resnet34", 64, "pth", {}), ("resnet50", 64, "safetensors", {}),
        ("resnet101", 64, "pth", {}), ("resnet152", 64, "safetensors", {}),
        ("googlenet", 64, "pth", {}), ("alexnet", 64, "safetensors", {}),
        ("vgg11", 224, "pth", VGG), ("vgg11_bn", 224, "safetensors", VGG), ("vgg13", 224, "safetensors", VGG),
        ("vgg13_bn", 224, "pth", VGG), ("vgg16", 224, "pth", VGG), ("vgg16_bn", 224, "safetensors", VGG),
        ("vgg19", 224, "safetensors", VGG), ("vgg19_bn", 224, "pth", VGG),
        ("cifar_resnet1202", 32, "safetensors", {})]

if __name__ == "__main__":
    print("| model | input | file | max abs logit diff | max abs logit | argmax agrees |")
    print("|---|---|---|---|---|---|")
    for name, size, fmt, options in ROWS:
        start = time.time()
        diff, agree, scale = t.parity(name, size, pathlib.Path(tempfile.mkdtemp()), fmt, **options)
        print(f"| {name} | {size}x{size} | .{fmt} | {diff:.2e} | {scale:.2f} | {'yes' if agree else 'NO'} |"
              f"  <!-- {time.time() - start:.0f} s -->", flush=True)
