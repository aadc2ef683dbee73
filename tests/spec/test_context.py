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
