"""deepkit.models.load: one loader for zoo names, spec files, saved models and weights files."""

import numpy as np
import pytest

from deepkit import models


def test_every_kind_of_reference(tmp_path):
    zoo = models.load("lenet5", num_classes=3)
    assert zoo.outputs[0].shape[-1] == 3
    zoo.save(tmp_path / "m.keras")
    zoo.save_weights(tmp_path / "w.weights.h5")
    (tmp_path / "net.yaml").write_text("input_shape: [4]\nlayers:\n  - Dense: 2\n")
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    saved = models.load(str(tmp_path / "m.keras"))
    from_weights = models.load(str(tmp_path / "w.weights.h5"), architecture="lenet5", num_classes=3)
    for model in (saved, from_weights):
        np.testing.assert_allclose(model.predict(x, verbose=0), zoo.predict(x, verbose=0), atol=1e-6)
    assert models.load(str(tmp_path / "net.yaml")).count_params() == 10


@pytest.mark.backend_independent
def test_wrong_uses_say_what_applies(tmp_path):
    with pytest.raises(ValueError, match="holds no architecture; pass architecture="):
        models.load("w.weights.h5")
    with pytest.raises(models.ModelFileError, match="model file not found"):
        models.load(str(tmp_path / "missing.keras"))
    (tmp_path / "m.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="weights cannot apply to it"):
        models.load(str(tmp_path / "m.keras"), weights="mnist")
    with pytest.raises(ValueError, match="Did you mean 'lenet5'"):
        models.load("lenet6")
