"""Keras objects inside layer arguments as spec data: ``{HeNormal: {seed: 1}}`` <-> Keras' serialized form.

Initializers, regularizers and constraints may be written by name (``"he_normal"``) or in the short
form ``{HeNormal: {seed: 1}}``; :func:`expand_object` turns the short form into Keras'
``{"class_name": ..., "config": ...}`` and :func:`short_object` writes it back.

Example:
    >>> from deepkit.spec.context import Where
    >>> expand_object("kernel_initializer", {"HeNormal": {"seed": 1}}, Where())["class_name"]
    'HeNormal'
"""

import inspect

import keras

from deepkit.spec import registry

__all__ = ["expand_object", "short_object", "plain_data"]

# Arguments that take a Keras object by name: {HeNormal: {seed: 1}} as well as "he_normal".
_OBJECT_KINDS = {
    "_initializer": ("initializer", keras.initializers, keras.initializers.Initializer),
    "_regularizer": ("regularizer", keras.regularizers, keras.regularizers.Regularizer),
    "_constraint": ("constraint", keras.constraints, keras.constraints.Constraint),
}


def _object_kind(key):
    for suffix, kind in _OBJECT_KINDS.items():
        if key.endswith(suffix):
            return kind
    return None


def _object_class(module, base, name):
    table = {n: getattr(module, n) for n in dir(module)
             if inspect.isclass(getattr(module, n)) and issubclass(getattr(module, n), base)}
    if name in table:
        return name, table[name]
    folded = [n for n in table if n.lower() == str(name).lower()]
    return (folded[0], table[folded[0]]) if len(folded) == 1 else (None, sorted(table))


def expand_object(key, value, where):
    """Turn the short form ``{HeNormal: {seed: 1}}`` of an initializer, regularizer or constraint argument
    into Keras' ``{"class_name": ..., "config": ...}``; other values are returned unchanged.

    Args:
        key: the argument name (``kernel_initializer``, ``bias_regularizer``, ``kernel_constraint``...).
        value: its value in the spec.
        where: the argument's location, for errors.

    Returns:
        The value Keras accepts.

    Raises:
        SpecError: an unknown class name or arguments it does not take.

    Example:
        >>> from deepkit.spec.context import Where
        >>> expand_object("kernel_initializer", {"HeNormal": {"seed": 1}}, Where())
        {'class_name': 'HeNormal', 'config': {'seed': 1}}
        >>> expand_object("kernel_regularizer", {"L2": 0.01}, Where())
        {'class_name': 'L2', 'config': {'l2': 0.01}}
    """
    kind = _object_kind(key)
    if kind is None or not isinstance(value, dict) or len(value) != 1 or "class_name" in value:
        return value
    what, module, base = kind
    name, body = next(iter(value.items()))
    found, cls = _object_class(module, base, name)
    if found is None:
        raise where.error(f"unknown {what} '{name}'.{registry.did_you_mean(name, cls)} Expected a "
                          f"keras.{module.__name__.split('.')[-1]} class, e.g. {{{cls[0]}: {{...}}}}.")
    params = [p for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if body is None:
        body = {}
    elif not isinstance(body, dict):
        if not params:
            raise where.error(f"{what} {found} takes no arguments. Received: {body!r}")
        body = {params[0].name: body}
    names = {p.name for p in params}
    for arg in body:
        if arg not in names:
            raise where.child(arg).error(f"{what} {found} has no argument '{arg}'.{registry.did_you_mean(arg, names)} "
                                         f"Valid arguments: {', '.join(sorted(names)) or 'none'}.")
    return {"class_name": found, "config": dict(body)}


def short_object(value):
    """Keras' serialized initializer/regularizer/constraint/dtype policy, written short for a spec.

    Args:
        value: a config value (``{"class_name": ..., "config": ...}`` or anything else).

    Returns:
        ``{ClassName: {changed arguments}}`` (or the bare class name), or ``value`` unchanged.

    Example:
        >>> short_object({"module": "keras.initializers", "class_name": "HeNormal", "config": {"seed": 1}})
        {'HeNormal': {'seed': 1}}
    """
    if not (isinstance(value, dict) and "class_name" in value and isinstance(value.get("config"), dict)):
        return value
    module = str(value.get("module") or "")
    name, config = value["class_name"], value["config"]
    if value.get("registered_name") not in (None, name):
        return value
    if module == "keras" and name in ("DTypePolicy", "FloatDTypePolicy") and set(config) == {"name"}:
        return config["name"]
    for _, (_, kind_module, base) in _OBJECT_KINDS.items():
        if module == kind_module.__name__ or module == f"keras.{kind_module.__name__.split('.')[-1]}":
            found, cls = _object_class(kind_module, base, name)
            if found is None:
                return value
            try:
                defaults = cls().get_config()
            except Exception:  # noqa: BLE001 - a class with required arguments: keep them all
                defaults = {}
            body = {k: plain_data(v) for k, v in config.items() if k not in defaults or defaults[k] != v}
            return {found: body} if body else found
    return value


def plain_data(value):
    """Tuples become lists (and nested layer nodes their data) so a spec dumps to YAML/JSON unchanged.

    Args:
        value: a config value.

    Returns:
        The value as plain lists, dicts and scalars.

    Example:
        >>> plain_data({"kernel_size": (3, 3)})
        {'kernel_size': [3, 3]}
    """
    if hasattr(value, "to_data"):  # a spec node
        return value.to_data()
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_data(v) for k, v in value.items()}
    return value
