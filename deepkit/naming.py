"""Names: "did you mean" suggestions and Keras' snake-case rule, one of each for the whole package.

Every "unknown name" error in deepkit (spec layers and arguments, zoo models, datasets, viz layer names,
featurevis objectives, command-line choices) suggests close matches through :func:`did_you_mean`, with
one policy: case-insensitive, at most three suggestions whose similarity ratio is at least
:data:`CUTOFF` and less than :data:`MARGIN` below the best, best first (ties: the longer common
prefix, then as difflib); for ``"/"``-paths the last component is tried when the whole path finds
nothing. Layer names are derived with :func:`to_snake_case`,
Keras' own rule (``MaxPooling2D`` -> ``max_pooling2d``).

Example:
    >>> did_you_mean("Dens", ["Dense", "Conv2D"])
    " Did you mean 'Dense'?"
    >>> to_snake_case("MaxPooling2D")
    'max_pooling2d'
"""

import difflib
import os
import re

__all__ = ["CUTOFF", "MARGIN", "suggest", "did_you_mean", "to_snake_case"]

# difflib's ratio a suggestion needs (difflib's own default): "Dens" -> "Dense" (0.89),
# "minst" -> "mnist" (0.8), "cifar" -> "cifar10" (0.83), but "imagenet" -> nothing.
CUTOFF = 0.6
# A suggestion is also less than this below the best one: "minst" -> 'mnist' (0.8), not also 'moons' (0.6).
MARGIN = 0.2


def _ranked(name, candidates, n):
    wanted = str(name).lower()
    scored = {}
    for candidate in candidates:
        key = str(candidate).lower()
        ratio = difflib.SequenceMatcher(None, wanted, key).ratio()
        if ratio >= CUTOFF and candidate not in scored:
            scored[candidate] = (ratio, len(os.path.commonprefix([wanted, key])), key)
    ranked = sorted(scored, key=scored.get, reverse=True)
    return [c for c in ranked if scored[ranked[0]][0] - scored[c][0] < MARGIN][:n]


def suggest(name, candidates, n=3):
    """Close matches of ``name`` among ``candidates``, best first.

    Case-insensitive, similarity ratio at least :data:`CUTOFF` and less than :data:`MARGIN` below the
    best match; ties go to the longer common prefix,
    then to the later name in sort order (as ``difflib.get_close_matches``).
    For a ``"/"``-path candidate list (``"stage1/relu"``), the last path component is tried when the
    whole names find nothing.

    Args:
        name: the misspelt name.
        candidates: the valid names (strings; duplicates are ignored).
        n: how many suggestions at most.

    Returns:
        A list of candidate names, as spelt in ``candidates``.

    Example:
        >>> suggest("conv2", ["Conv2D", "Conv1D", "Dense"])
        ['Conv2D', 'Conv1D']
        >>> suggest("rleu", ["stem", "stage1/relu"])
        ['stage1/relu']
    """
    candidates = list(dict.fromkeys(candidates))
    close = _ranked(name, candidates, n)
    if not close and any("/" in str(c) for c in candidates):
        tails = {}
        for c in candidates:
            tails.setdefault(str(c).rsplit("/", 1)[-1], c)
        close = [tails[t] for t in _ranked(name, list(tails), n)]
    return close


def did_you_mean(name, candidates, n=3):
    """A ``" Did you mean 'X' or 'Y'?"`` phrase for an error message, or ``""`` when nothing is close.

    Args:
        name: the misspelt name.
        candidates: the valid names.
        n: how many suggestions at most.

    Returns:
        A string to append to an error message (it starts with a space).

    Example:
        >>> did_you_mean("Dense2", ["Dense", "Conv2D"])
        " Did you mean 'Dense'?"
        >>> did_you_mean("xyz", ["Dense"])
        ''
    """
    close = suggest(name, candidates, n=n)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def to_snake_case(name):
    """Keras' own naming rule (``keras.src.utils.naming.to_snake_case``): ``MaxPooling2D`` -> ``max_pooling2d``.

    Args:
        name: a class name.

    Returns:
        The snake-case name.

    Example:
        >>> to_snake_case("BatchNormalization"), to_snake_case("SparseCategoricalCrossentropy")
        ('batch_normalization', 'sparse_categorical_crossentropy')
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
