"""copilot.treeshap against shap's own TreeExplainer (the dev group's reference implementation)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from energy_assets.copilot.treeshap import TreeShapError, tree_shap

shap = pytest.importorskip("shap")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.normal(size=(600, 8)), columns=[f"f{i}" for i in range(8)])
    X.iloc[rng.random(600) < 0.1, 3] = np.nan  # missing values take each split's learned side
    y = 2 * X["f0"] + np.nan_to_num(X["f3"]) * X["f1"] + (X["f2"] > 0.5) + rng.normal(size=600)
    return X, y, rng.random(600)


@pytest.mark.parametrize("settings", [{"max_iter": 30, "max_depth": 4}, {"max_iter": 10, "max_leaf_nodes": 31}])
def test_values_are_shaps_and_add_up_to_the_prediction(data, settings):
    X, y, weight = data
    model = HistGradientBoostingRegressor(random_state=0, **settings).fit(X, y, sample_weight=weight)
    rows = X.iloc[:3].copy()
    rows.iloc[0, 3] = np.nan
    values, expected = tree_shap(model, rows)
    explainer = shap.TreeExplainer(model)
    np.testing.assert_allclose(values, explainer.shap_values(rows), rtol=0, atol=1e-9)
    assert expected == pytest.approx(float(np.ravel(explainer.expected_value)[0]), abs=1e-9)
    np.testing.assert_allclose(expected + values.sum(axis=1), model.predict(rows), rtol=0, atol=1e-9)


def test_rejects_what_it_cannot_explain(data):
    X, y, _ = data
    with pytest.raises(TreeShapError, match="not a fitted HistGradientBoostingRegressor"):
        tree_shap(HistGradientBoostingRegressor(), X)
    model = HistGradientBoostingRegressor(max_iter=5).fit(X, y)
    with pytest.raises(TreeShapError, match="takes 8 features"):
        tree_shap(model, X.iloc[:, :3])
