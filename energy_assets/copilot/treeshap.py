"""Exact TreeSHAP of a fitted scikit-learn HistGradientBoostingRegressor, in NumPy.

The values are the path-dependent ("tree_path_dependent") SHAP values of Lundberg et al., *From
local explanations to global understanding with explainable AI for trees* (Nature Machine
Intelligence 2, 2020), Algorithm 1: for each leaf, the expected output given the features in S
weights the leaf by, for every feature on its path, the indicator that the row follows the path
(feature in S) or the share of training samples that followed it (feature not in S). They are the
numbers `shap.TreeExplainer(model).shap_values(X)` returns (tests/copilot/test_treeshap.py checks
this against shap itself), computed here without shap's JIT (numba and LLVM, about 190 MB), so the
serving image can explain a forecast.

Per leaf the game is a product: v * prod_{j in S} o_j * prod_{j not in S} z_j over the distinct
features j of its path (o_j: 1 if the row satisfies every split on j of the path, else 0; z_j: the
product of the sample shares of those splits). Its Shapley value for feature i is
v * (o_i - z_i) * sum_k c_k * k! (d-k-1)! / d!, with c_k the coefficients of
prod_{j != i} (z_j + o_j t). Paths shorter than the longest are padded with null players
(o = z = 1), which leave every other player's Shapley value unchanged.
"""

from __future__ import annotations

from math import factorial

import numpy as np
import pandas as pd


class TreeShapError(ValueError):
    """The model cannot be explained this way; the message says why."""


def _leaf_paths(nodes: np.ndarray, x: np.ndarray) -> list[tuple[float, dict[int, list[float]]]]:
    """(leaf value, {feature: [z, o]}) of every leaf of one tree, for the row `x`."""
    leaves = []
    stack: list[tuple[int, dict[int, list[float]]]] = [(0, {})]
    while stack:
        index, path = stack.pop()
        node = nodes[index]
        if node["is_leaf"]:
            leaves.append((float(node["value"]), path))
            continue
        if node["is_categorical"]:
            raise TreeShapError("the model has categorical splits; only numeric splits are explained")
        feature = int(node["feature_idx"])
        value = x[feature]
        goes_left = bool(node["missing_go_to_left"]) if np.isnan(value) else bool(value <= node["num_threshold"])
        parent = float(nodes[index]["count"])
        for child, followed in ((int(node["left"]), goes_left), (int(node["right"]), not goes_left)):
            z, o = path.get(feature, (1.0, 1.0))
            branch = dict(path)
            branch[feature] = [z * float(nodes[child]["count"]) / parent, o * float(followed)]
            stack.append((child, branch))
    return leaves


def tree_shap(model, X: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, float]:
    """SHAP values (rows x features) of the model's raw prediction, and the expected value.

    For every row, expected value + the row's values = the model's prediction (squared-error loss).
    """
    predictors = getattr(model, "_predictors", None)
    if predictors is None:
        raise TreeShapError(f"{type(model).__name__} is not a fitted HistGradientBoostingRegressor")
    if any(len(per_iteration) != 1 for per_iteration in predictors):
        raise TreeShapError("only single-output models (one tree per iteration) are explained")
    rows = np.asarray(X, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != model.n_features_in_:
        raise TreeShapError(f"X has shape {rows.shape}; the model takes {model.n_features_in_} features")
    trees = [per_iteration[0].nodes for per_iteration in predictors]

    expected = float(np.ravel(model._baseline_prediction)[0])
    for nodes in trees:
        leaf = nodes["is_leaf"].astype(bool)
        expected += float(np.sum(nodes["value"][leaf] * nodes["count"][leaf]) / nodes["count"][0])

    values = np.zeros(rows.shape, dtype=np.float64)
    for r, x in enumerate(rows):
        leaves = [leaf for nodes in trees for leaf in _leaf_paths(nodes, x)]
        depth = max((len(path) for _, path in leaves), default=0)
        if depth == 0:
            continue
        n = len(leaves)
        features = np.full((n, depth), -1, dtype=np.int64)
        zs = np.ones((n, depth))
        os_ = np.ones((n, depth))
        leaf_values = np.empty(n)
        for k, (value, path) in enumerate(leaves):
            leaf_values[k] = value
            for position, (feature, (z, o)) in enumerate(path.items()):
                features[k, position], zs[k, position], os_[k, position] = feature, z, o
        weights = np.array([factorial(s) * factorial(depth - s - 1) / factorial(depth) for s in range(depth)])
        shares = np.empty((n, depth))
        for i in range(depth):
            # Coefficients of prod_{j != i} (z_j + o_j t), for every leaf at once.
            poly = np.zeros((n, depth))
            poly[:, 0] = 1.0
            for j in range(depth):
                if j == i:
                    continue
                shifted = np.zeros_like(poly)
                shifted[:, 1:] = poly[:, :-1] * os_[:, j, None]
                poly = poly * zs[:, j, None] + shifted
            shares[:, i] = poly @ weights
        contributions = leaf_values[:, None] * (os_ - zs) * shares
        real = features >= 0
        np.add.at(values[r], features[real], contributions[real])
    return values, expected
