"""Test risks of the paper: per-group cross-entropy R^(g), the balanced risk R_bal, and more.

The task decides the groups: the two classes (imbalance) or the four (attribute, label)
groups (spurious). Probabilities are clipped once, so no inf or NaN reaches a result.

Beside the CE risks: ROC AUC and the Brier score (discrimination and calibration), overall
and per attribute value (`auc_a0`, `auc_a1`), so a generator that only shifts the prior
toward the minority class shows as a lower minority CE at an unchanged AUC.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import balanced_accuracy_score, brier_score_loss, log_loss, roc_auc_score

from synthscale.splits import ALL_GROUPS, TASK_TARGETS, Task, class_keys, group_keys

PROB_CLIP = 1e-7
DECISION_THRESHOLD = 0.5


def cross_entropy(y: np.ndarray, p: np.ndarray) -> float:
    """Mean binary cross-entropy after clipping p to [PROB_CLIP, 1 - PROB_CLIP]."""
    clipped = np.clip(np.asarray(p, dtype=np.float64), PROB_CLIP, 1.0 - PROB_CLIP)
    return float(log_loss(y, clipped, labels=[0, 1]))


def compute_risks(y: np.ndarray, p: np.ndarray, task: Task, a: np.ndarray | None = None) -> dict[str, float]:
    """All risks of one fit on the test set, keyed as in results.csv."""
    risks = {"overall_ce": cross_entropy(y, p)}
    keys = {"ce_" + k: k for k in ("y0", "y1")}
    row_keys = {"class": class_keys(y)}
    if a is not None:
        keys.update({"ce_" + g: g for g in ALL_GROUPS})
        row_keys["group"] = group_keys(y, a)
    for column, key in keys.items():
        rows = (row_keys["group"] if key.startswith("a") else row_keys["class"]) == key
        risks[column] = cross_entropy(y[rows], p[rows])
    targets = TASK_TARGETS[task]
    task_groups = (*targets.minority, *targets.majority)
    if task == "imbalance":
        risks["minority_ce"] = risks["ce_y1"]
    else:
        agree = np.isin(row_keys["group"], targets.minority)
        risks["minority_ce"] = cross_entropy(y[agree], p[agree])
    group_risks = [risks["ce_" + g] for g in task_groups]
    risks["balanced_ce"] = float(np.mean(group_risks))
    risks["worst_group_ce"] = float(np.max(group_risks))
    risks["balanced_accuracy"] = float(balanced_accuracy_score(y, p >= DECISION_THRESHOLD))
    risks.update(discrimination(y, p, a))
    return risks


def discrimination(y: np.ndarray, p: np.ndarray, a: np.ndarray | None = None) -> dict[str, float]:
    """ROC AUC and Brier score, and the AUC within each attribute value (a group alone holds
    one label, so AUC per (attribute, label) group is undefined)."""
    metrics = {"auc": float(roc_auc_score(y, p)), "brier": float(brier_score_loss(y, p))}
    if a is not None:
        for value in (0, 1):
            rows = a == value
            if len(np.unique(y[rows])) == 2:
                metrics[f"auc_a{value}"] = float(roc_auc_score(y[rows], p[rows]))
    return metrics
