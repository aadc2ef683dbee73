"""deepkit/spec/context.py: layer names made up while a spec builds (issue 27.15: building stays linear)."""

import pytest

from deepkit.spec.context import BuildContext, Where


class CountingSet(set):
    """A set that counts membership tests."""

    lookups = 0

    def __contains__(self, item):
        CountingSet.lookups += 1
        return super().__contains__(item)


@pytest.mark.backend_independent
def test_naming_n_layers_of_one_kind_takes_linear_work():
    """Before: each new name was tried from ``dense`` upwards, n**2/2 lookups (50,000 Flatten: minutes)."""
    ctx = BuildContext()
    ctx.used = CountingSet()
    CountingSet.lookups = 0
    n = 2000
    for _ in range(n):
        ctx.claim(ctx.auto_name("flatten"), Where())
    assert len(ctx.used) == n and "flatten_1999" in ctx.used
    assert CountingSet.lookups < 4 * n, CountingSet.lookups


@pytest.mark.backend_independent
def test_auto_names_skip_names_claimed_by_hand_and_keep_their_order():
    ctx = BuildContext()
    for name in ("dense", "dense_2", "dense_3"):
        ctx.claim(name, Where())
    got = []
    for _ in range(3):
        got.append(ctx.auto_name("dense"))
        ctx.claim(got[-1], Where())
    assert got == ["dense_1", "dense_4", "dense_5"]
    assert ctx.auto_name("conv2d") == "conv2d"
    ctx.prefix.append("block1")
    assert ctx.auto_name("dense") == "block1_dense"


@pytest.mark.backend_independent
def test_an_error_without_a_mark_of_its_own_takes_the_nearest_marked_parent():
    """Plant: no fall-back (only the exact path's mark): short-form entries lose their line:col."""
    marks = {(): (1, 1), ("layers",): (2, 1), ("layers", 1): (4, 5), ("layers", 1, "Dense"): (4, 12)}
    error = Where(("layers", 1, "Dense", "units"), marks, "net.yaml").error("bad units")
    assert (error.line, error.column) == (4, 12)
    assert str(error) == "net.yaml:4:12: layers[1].Dense.units: bad units"
    assert (Where(("layers", 1, "residual", "layers", 0), marks).error("x").line,) == (4,)
    assert Where(("name",), {}).error("x").line is None


def test_a_short_form_entry_error_keeps_its_line_and_column():
    import deepkit
    from deepkit.errors import SpecError

    with pytest.raises(SpecError) as caught:
        deepkit.from_spec("input_shape: [4]\nlayers:\n  - Flatten\n  - Dense: true\n")
    assert str(caught.value).startswith("<string>:4:5: layers[1].Dense.units: Dense argument 'units' must be a number")
