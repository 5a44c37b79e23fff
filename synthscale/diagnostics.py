"""How close a synthetic pool is to the real rows of the same class or group, for any sampler.

- detection AUC: a classifier trained to tell real rows from synthetic ones, cross-validated
  (0.5: indistinguishable; 1: every row gives itself away);
- marginal distance per column: total variation for categories, the Kolmogorov-Smirnov
  statistic for numbers (mean and max over columns);
- correlation distance: mean absolute difference between the Spearman correlation matrices;
- exact-copy rate: the share of synthetic rows identical to some real row;
- closest-row distance: median distance from a synthetic row to its nearest real row
  (numbers standardized, categories one-hot): near 0 means memorized rows;
- train-on-synthetic, test-on-real: balanced accuracy, on the real rows, of a classifier
  fitted to tell the pool's classes apart (per pool, when it holds both classes);
- privacy against held-out rows: the holdout DCR share (the share of synthetic rows closer to
  a row the sampler saw than to a real row it never saw, equally many of each: 0.5 is ideal,
  1.0 means copies) and a distance-based membership-inference AUC (do the synthetic rows sit
  nearer the rows the sampler saw than the held-out ones? 0.5: they cannot tell).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import NearestNeighbors

from synthscale.config import DownstreamConfig, XGBoostConfig
from synthscale.data.schema import Schema
from synthscale.downstream import make_classifier
from synthscale.targets import Target, labels_of

DETECTION_MAX_ROWS = 500  # per side: enough for a stable AUC, cheap enough for every pool
DETECTION_MIN_ROWS = 10  # per side: below this a cross-validated AUC means nothing
DETECTION_FOLDS = 3
PER_COLUMN_PREFIX = "marginal_distance/"  # + column name: one distance per column in pools.csv
DETECTION_MODEL = DownstreamConfig(xgboost=XGBoostConfig(n_estimators=50, max_depth=4))
PRIVACY_MAX_ROWS = 1000  # per side (seen, held out): enough for a stable share, cheap for every pool
PRIVACY_MIN_ROWS = 10  # per side: below this the share is noise
# a pool's summary: averaged over its targets into results.csv's pool_* columns, and logged
POOL_METRICS = (
    "detection_auc",
    "marginal_distance",
    "max_marginal_distance",
    "correlation_distance",
    "exact_copy_rate",
    "closest_row_distance",
    "tstr_balanced_accuracy",
    "validity",
    "rows_dropped",
    "holdout_dcr_share",
    "membership_auc",
)


def diagnose_targets(
    synthetic: dict[Target, pd.DataFrame],
    real: pd.DataFrame,
    real_targets: np.ndarray,
    schema: Schema,
    seed: int,
) -> dict[Target, dict[str, float]]:
    """Per target: its synthetic rows against every real row of that target (nothing for a
    target with no synthetic row)."""
    return {
        target: diagnose(real[real_targets == target], rows, schema, seed) if len(rows) else {}
        for target, rows in synthetic.items()
    }


def privacy_by_target(
    synthetic: dict[Target, pd.DataFrame],
    seen: pd.DataFrame,
    seen_targets: np.ndarray,
    held_out: pd.DataFrame,
    held_out_targets: np.ndarray,
    schema: Schema,
    seed: int,
) -> dict[Target, dict[str, float]]:
    """`holdout_privacy` per target, each against the seen and held-out rows of that target."""
    return {
        target: holdout_privacy(
            rows, seen[seen_targets == target], held_out[held_out_targets == target], schema, seed
        )
        for target, rows in synthetic.items()
    }


def pool_tstr(
    synthetic: dict[Target, pd.DataFrame],
    real: pd.DataFrame,
    real_targets: np.ndarray,
    schema: Schema,
    seed: int,
) -> dict[str, float]:
    """Balanced accuracy on the real rows of a classifier fitted on the synthetic rows' classes;
    empty when the pool does not hold both."""
    filled = {target: rows for target, rows in synthetic.items() if len(rows)}
    if not filled:
        return {}
    rows = pd.concat(filled.values(), ignore_index=True)
    rows_y = np.concatenate([np.full(len(r), target.label) for target, r in filled.items()])
    score = tstr_balanced_accuracy(rows, rows_y, real, labels_of(real_targets), schema, seed)
    return {} if np.isnan(score) else {"tstr_balanced_accuracy": score}


def diagnose(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, seed: int) -> dict[str, float]:
    """All diagnostics of one synthetic sample against the real rows of its target."""
    distances = marginal_distances(real, synthetic, schema)
    result = {
        "marginal_distance": float(np.mean(list(distances.values()))),
        "max_marginal_distance": float(np.max(list(distances.values()))),
        **{f"{PER_COLUMN_PREFIX}{metric_safe(name)}": value for name, value in distances.items()},
        "correlation_distance": correlation_distance(real, synthetic),
        "exact_copy_rate": exact_copy_rate(real, synthetic),
        "closest_row_distance": closest_row_distance(real, synthetic, schema),
    }
    if min(len(real), len(synthetic)) >= DETECTION_MIN_ROWS:
        result["detection_auc"] = detection_auc(real, synthetic, schema, seed)
    return result


def metric_safe(name: str) -> str:
    """A column name as MLflow accepts it in a metric key (letters, digits, _ - . / and space)."""
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", str(name))


def detection_auc(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, seed: int) -> float:
    """Cross-validated AUC of XGBoost telling synthetic (1) from real (0), equal rows per side."""
    rng = np.random.default_rng(seed)
    n = min(len(real), len(synthetic), DETECTION_MAX_ROWS)
    rows = pd.concat(
        [
            real.iloc[rng.choice(len(real), n, replace=False)],
            synthetic.iloc[rng.choice(len(synthetic), n, replace=False)],
        ],
        ignore_index=True,
    )
    is_synthetic = np.repeat([0, 1], n)
    folds = StratifiedKFold(DETECTION_FOLDS, shuffle=True, random_state=seed)
    model = make_classifier("xgboost", DETECTION_MODEL, schema, seed)
    scores = cross_val_predict(model, rows, is_synthetic, cv=folds, method="predict_proba")[:, 1]
    return float(roc_auc_score(is_synthetic, scores))


def marginal_distances(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> dict[str, float]:
    """Per column: total variation distance (categories) or KS statistic (numbers)."""
    distances = {}
    for column in schema.columns:
        if column.kind == "category":
            p = real[column.name].value_counts(normalize=True)
            q = synthetic[column.name].value_counts(normalize=True)
            distances[column.name] = float(0.5 * p.sub(q, fill_value=0.0).abs().sum())
        else:
            distances[column.name] = float(
                stats.ks_2samp(real[column.name], synthetic[column.name]).statistic
            )
    return distances


def correlation_distance(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """Mean |difference| of the off-diagonal Spearman correlations (constant columns count 0)."""
    upper = np.triu_indices(real.shape[1], k=1)
    if len(upper[0]) == 0:
        return 0.0
    matrices = [np.nan_to_num(_codes(rows).corr(method="spearman").to_numpy()) for rows in (real, synthetic)]
    return float(np.mean(np.abs(matrices[0][upper] - matrices[1][upper])))


def exact_copy_rate(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """Share of synthetic rows equal, in every column, to some real row."""
    if len(synthetic) == 0:
        return 0.0
    seen = set(_codes(real).itertuples(index=False, name=None))
    copies = sum(row in seen for row in _codes(synthetic).itertuples(index=False, name=None))
    return copies / len(synthetic)


def closest_row_distance(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> float:
    """Median Euclidean distance from each synthetic row to its nearest real row."""
    if len(synthetic) == 0 or len(real) == 0:
        return float("nan")
    spread = _numeric_spread(real, schema)
    distances = _nearest(_distance_space(real, schema, spread), _distance_space(synthetic, schema, spread))
    return float(np.median(distances))


def _numeric_spread(rows: pd.DataFrame, schema: Schema) -> pd.Series:
    """Each numeric column's standard deviation (1 where constant): the distance scale."""
    numeric = [c.name for c in schema.columns if c.kind != "category"]
    return rows[numeric].astype(np.float64).std(ddof=0).replace(0.0, 1.0)


def _distance_space(rows: pd.DataFrame, schema: Schema, spread: pd.Series) -> np.ndarray:
    """Numbers divided by the real rows' standard deviation; categories one-hot."""
    parts = []
    for column in schema.columns:
        values = rows[column.name]
        if column.kind == "category":
            parts.append((values.to_numpy()[:, None] == np.asarray(column.categories)[None, :]).astype(float))
        else:
            parts.append(values.to_numpy(np.float64)[:, None] / spread[column.name])
    return np.concatenate(parts, axis=1)


def holdout_privacy(
    synthetic: pd.DataFrame, seen: pd.DataFrame, held_out: pd.DataFrame, schema: Schema, seed: int
) -> dict[str, float]:
    """Holdout DCR share and membership-inference AUC of one target's synthetic rows, against
    equally many real rows the sampler saw and real rows it never saw (empty when too few)."""
    n = min(len(seen), len(held_out), PRIVACY_MAX_ROWS)
    if n < PRIVACY_MIN_ROWS or len(synthetic) == 0:
        return {}
    rng = np.random.default_rng(seed)
    seen = seen.iloc[rng.choice(len(seen), n, replace=False)]
    held_out = held_out.iloc[rng.choice(len(held_out), n, replace=False)]
    spread = _numeric_spread(pd.concat([seen, held_out]), schema)
    space = {name: _distance_space(rows, schema, spread) for name, rows in
             (("synthetic", synthetic), ("seen", seen), ("held_out", held_out))}  # fmt: skip
    to_seen = _nearest(space["seen"], space["synthetic"])
    to_held_out = _nearest(space["held_out"], space["synthetic"])
    closer = np.mean(to_seen < to_held_out) + 0.5 * np.mean(to_seen == to_held_out)  # a tie is a coin
    candidates = np.concatenate([space["seen"], space["held_out"]])
    nearness = -_nearest(space["synthetic"], candidates)  # a member sits nearer the synthetic rows
    membership = roc_auc_score(np.repeat([1, 0], n), nearness)
    return {"holdout_dcr_share": float(closer), "membership_auc": float(membership)}


def _nearest(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Each query row's Euclidean distance to its nearest reference row."""
    distances, _ = NearestNeighbors(n_neighbors=1).fit(reference).kneighbors(queries)
    return distances[:, 0]


def tstr_balanced_accuracy(
    synthetic: pd.DataFrame,
    synthetic_y: np.ndarray,
    real: pd.DataFrame,
    real_y: np.ndarray,
    schema: Schema,
    seed: int,
) -> float:
    """Train on synthetic rows, test on real ones: NaN unless the pool holds both classes."""
    if len(np.unique(synthetic_y)) < 2 or len(np.unique(real_y)) < 2:
        return float("nan")
    model = make_classifier("xgboost", DETECTION_MODEL, schema, seed)
    model.fit(synthetic, synthetic_y)
    return float(balanced_accuracy_score(real_y, model.predict(real)))


def _codes(rows: pd.DataFrame) -> pd.DataFrame:
    """Categories as their domain codes; numbers as they are."""
    return rows.apply(lambda c: c.cat.codes if isinstance(c.dtype, pd.CategoricalDtype) else c)
