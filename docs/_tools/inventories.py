"""Offline intersphinx: small Sphinx inventories for Python, NumPy, Matplotlib and Keras.

Intersphinx normally downloads each project's ``objects.inv``; the docs must build without a
network, so this module writes inventories from the tables below (the objects deepkit's docs and
examples refer to) and ``conf.py`` points intersphinx at those files. Keras' site is not built with
Sphinx, so it publishes no inventory at all: the table maps names to pages of keras.io.
With ``DEEPKIT_DOCS_ONLINE=1`` conf.py uses the projects' real inventories instead (Keras excepted).

Example:
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> path = write_inventory(os.path.join(d, "k.inv"), "Keras", "3", "https://keras.io/api/",
    ...                        [("keras.Model", "py:class", "models/model/")])
    >>> open(path, "rb").read().startswith(b"# Sphinx inventory version 2")
    True
"""

import os
import zlib

PYTHON = ("https://docs.python.org/3/", [
    ("ValueError", "py:exception", "library/exceptions.html#ValueError"),
    ("TypeError", "py:exception", "library/exceptions.html#TypeError"),
    ("OSError", "py:exception", "library/exceptions.html#OSError"),
    ("KeyError", "py:exception", "library/exceptions.html#KeyError"),
    ("Exception", "py:exception", "library/exceptions.html#Exception"),
    ("dict", "py:class", "library/stdtypes.html#dict"),
    ("list", "py:class", "library/stdtypes.html#list"),
    ("tuple", "py:class", "library/stdtypes.html#tuple"),
    ("str", "py:class", "library/stdtypes.html#str"),
    ("int", "py:class", "library/functions.html#int"),
    ("float", "py:class", "library/functions.html#float"),
    ("bool", "py:class", "library/functions.html#bool"),
    ("callable", "py:function", "library/functions.html#callable"),
    ("os.environ", "py:data", "library/os.html#os.environ"),
    ("pathlib.Path", "py:class", "library/pathlib.html#pathlib.Path"),
    ("doctest", "py:module", "library/doctest.html#module-doctest"),
])

NUMPY = ("https://numpy.org/doc/stable/", [
    ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#numpy.ndarray"),
    ("numpy.array", "py:function", "reference/generated/numpy.array.html#numpy.array"),
    ("numpy.float32", "py:class", "reference/arrays.scalars.html#numpy.float32"),
    ("numpy.int32", "py:class", "reference/arrays.scalars.html#numpy.int32"),
    ("numpy.uint8", "py:class", "reference/arrays.scalars.html#numpy.uint8"),
    ("numpy.random.Generator", "py:class", "reference/random/generator.html#numpy.random.Generator"),
    ("numpy.random.default_rng", "py:function",
     "reference/random/generator.html#numpy.random.default_rng"),
])

MATPLOTLIB = ("https://matplotlib.org/stable/", [
    ("matplotlib.figure.Figure", "py:class", "api/_as_gen/matplotlib.figure.Figure.html"),
    ("matplotlib.axes.Axes", "py:class", "api/_as_gen/matplotlib.axes.Axes.html"),
    ("matplotlib.pyplot.show", "py:function", "api/_as_gen/matplotlib.pyplot.show.html"),
    ("matplotlib.pyplot.subplots", "py:function", "api/_as_gen/matplotlib.pyplot.subplots.html"),
])

_LAYERS = "layers/"
KERAS = ("https://keras.io/api/", [
    ("keras.Model", "py:class", "models/model/"),
    ("keras.src.models.model.Model", "py:class", "models/model/"),
    ("keras.Sequential", "py:class", "models/sequential/"),
    ("keras.Model.compile", "py:method", "models/model_training_apis/#compile-method"),
    ("keras.Model.fit", "py:method", "models/model_training_apis/#fit-method"),
    ("keras.Model.evaluate", "py:method", "models/model_training_apis/#evaluate-method"),
    ("keras.Model.predict", "py:method", "models/model_training_apis/#predict-method"),
    ("keras.Model.summary", "py:method", "models/model/#summary-method"),
    ("keras.Model.save", "py:method", "models/model_saving_apis/model_saving_and_loading/#save-method"),
    ("keras.Input", "py:function", _LAYERS + "core_layers/input/"),
    ("keras.layers.Layer", "py:class", _LAYERS + "base_layer/"),
    ("keras.src.layers.layer.Layer", "py:class", _LAYERS + "base_layer/"),
    ("keras.layers.Dense", "py:class", _LAYERS + "core_layers/dense/"),
    ("keras.layers.Activation", "py:class", _LAYERS + "core_layers/activation/"),
    ("keras.layers.Conv2D", "py:class", _LAYERS + "convolution_layers/convolution2d/"),
    ("keras.layers.MaxPooling2D", "py:class", _LAYERS + "pooling_layers/max_pooling2d/"),
    ("keras.layers.AveragePooling2D", "py:class", _LAYERS + "pooling_layers/average_pooling2d/"),
    ("keras.layers.GlobalAveragePooling2D", "py:class",
     _LAYERS + "pooling_layers/global_average_pooling2d/"),
    ("keras.layers.BatchNormalization", "py:class", _LAYERS + "normalization_layers/batch_normalization/"),
    ("keras.layers.Dropout", "py:class", _LAYERS + "regularization_layers/dropout/"),
    ("keras.layers.Flatten", "py:class", _LAYERS + "reshaping_layers/flatten/"),
    ("keras.layers.Add", "py:class", _LAYERS + "merging_layers/add/"),
    ("keras.layers.Concatenate", "py:class", _LAYERS + "merging_layers/concatenate/"),
    ("keras.callbacks.Callback", "py:class", "callbacks/base_callback/"),
    ("keras.callbacks.History", "py:class", "callbacks/"),
    ("keras.optimizers.SGD", "py:class", "optimizers/sgd/"),
    ("keras.optimizers.Adam", "py:class", "optimizers/adam/"),
    ("keras.losses", "py:module", "losses/"),
    ("keras.ops", "py:module", "ops/"),
    ("keras.mixed_precision", "py:module", "mixed_precision/"),
    ("keras.distribution", "py:module", "distribution/"),
    ("keras.distribution.DataParallel", "py:class", "distribution/data_parallel/"),
    ("keras.distribution.ModelParallel", "py:class", "distribution/model_parallel/"),
    ("keras.distribution.DeviceMesh", "py:class", "distribution/layout_map/"),
    ("keras.distribution.LayoutMap", "py:class", "distribution/layout_map/"),
    ("keras.distribution.list_devices", "py:function", "distribution/distribution_utils/"),
    ("keras.saving", "py:module", "models/model_saving_apis/"),
])

TABLES = {"python": ("Python", "3", PYTHON), "numpy": ("NumPy", "stable", NUMPY),
          "matplotlib": ("Matplotlib", "stable", MATPLOTLIB), "keras": ("Keras", "3", KERAS)}


def write_inventory(path, project, version, base_url, entries):
    """Write a Sphinx (version 2) inventory file.

    Args:
        path: the file to write.
        project: the project name written in the header.
        version: the version written in the header.
        base_url: the site the relative URIs are relative to (only documents the caller's intent;
            intersphinx takes the base from ``intersphinx_mapping``).
        entries: ``(name, "domain:role", relative_uri)`` triples.

    Returns:
        ``path``.

    Example:
        >>> import tempfile, os, zlib
        >>> p = write_inventory(os.path.join(tempfile.mkdtemp(), "o.inv"), "P", "1", "https://x/",
        ...                     [("p.f", "py:function", "f.html")])
        >>> zlib.decompress(open(p, "rb").read().split(b"\\n", 4)[4]).decode()
        'p.f py:function 1 f.html -\\n'
    """
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n").encode()
    body = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in entries).encode()
    with open(path, "wb") as fh:
        fh.write(header + zlib.compress(body))
    return path


def intersphinx_mapping(outdir, online=False):
    """Write the offline inventories and return an ``intersphinx_mapping`` for conf.py.

    Args:
        outdir: folder for the ``.inv`` files (created).
        online: use the real published inventories (network needed) where they exist.

    Returns:
        A dict ``{key: (base_url, inventory)}``.

    Example:
        >>> import tempfile
        >>> m = intersphinx_mapping(tempfile.mkdtemp())
        >>> sorted(m), m["keras"][0]
        (['keras', 'matplotlib', 'numpy', 'python'], 'https://keras.io/api/')
    """
    os.makedirs(outdir, exist_ok=True)
    mapping = {}
    for key, (project, version, (base, entries)) in TABLES.items():
        path = write_inventory(os.path.join(outdir, f"{key}.inv"), project, version, base, entries)
        mapping[key] = (base, None if online and key != "keras" else path)
    return mapping
