"""Settings from the URL, their limits, and the points, features and CSV of deepkit/playground/data.py."""

import numpy as np
import pytest

from deepkit.playground import config as pconfig
from deepkit.playground import data as pdata

pytestmark = pytest.mark.backend_independent


def test_query_round_trip_and_presets():
    config, notes = pconfig.from_query("dataset=spiral&networkShape=8,8,8&features=x,y,sinX&optimizer=adam")
    assert notes == []
    again, _ = pconfig.from_query(pconfig.to_query(config))
    assert again == config
    preset, notes = pconfig.from_query("preset=xor-linear&learningRate=0.3")
    assert preset["dataset"] == "xor" and preset["networkShape"] == [] and preset["learningRate"] == 0.3
    assert pconfig.from_query("preset=nope")[1][0].startswith("unknown preset 'nope'")


def test_tf_playground_feature_flags_are_read():
    config, _ = pconfig.from_query("x=true&y=false&sinY=true")
    assert config["features"] == ["x", "sinY"]


@pytest.mark.parametrize("query, key", [("noise=200", "noise"), ("batchSize=0", "batchSize"),
                                         ("networkShape=1,2,3,4,5,6,7,8,9,10,11", "networkShape"),
                                         ("features=x,nope", "features"), ("percTrainData=abc", "percTrainData"),
                                         ("%ZZ=%ZZ", None), ("dataset=csv", "dataset")])
def test_bad_query_values_fall_back_with_a_note(query, key):
    config, notes = pconfig.from_query(query)
    assert notes, query
    if key:
        default = pconfig.DEFAULTS[key] if key != "dataset" else "circle"
        assert config[key] == default
        assert key.split("=")[0] in notes[0] or "CSV" in notes[0]


def test_regression_dataset_sets_the_problem():
    config = pconfig.checked({"dataset": "reg-gauss"})
    assert config["problem"] == "regression"


def test_points_and_features_on_the_plane():
    points = pdata.make_points(pconfig.checked({"dataset": "spiral", "numSamples": 300, "percTrainData": 30}))
    assert points.x_train.shape == (90, 2) and points.x_test.shape == (210, 2)
    assert np.abs(np.concatenate([points.x_train, points.x_test])).max() <= 6
    f = pdata.features(np.array([[1.0, -2.0]]), list(pconfig.FEATURES))
    np.testing.assert_allclose(f[0], [1, -2, 1, 4, -2, np.sin(1), np.sin(-2)], rtol=1e-6)


def test_csv_regression_targets_and_errors():
    x, y, problem, note = pdata.parse_csv("1,1,0.5\n2,2,3\n3,3,-6\n4,4,1.5\n")
    assert problem == "regression" and "divided by 6" in note
    np.testing.assert_allclose(y, [0.5 / 6, 0.5, -1.0, 0.25], rtol=1e-6)
    with pytest.raises(pconfig.LimitError, match="at least 4 points"):
        pdata.parse_csv("x,y,l\n1,2,1\n")
    with pytest.raises(pconfig.LimitError, match="CSV line 3"):
        pdata.parse_csv("1,2,1\n3,4,0\n1,nan,1\n")
