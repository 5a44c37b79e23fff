"""Test risks of the paper: per-group cross-entropy R^(g), the balanced risk R_bal, and more.

The task decides the groups: the two classes (imbalance) or the four (attribute, label)
groups (spurious). Probabilities are clipped once, so no inf or NaN reaches a result.

Beside the CE risks: ROC AUC and the Brier score (discrimination and calibration), overall
and per attribute value (`auc_a0`, `auc_a1`), so a generator that only shifts the prior
toward the minority class shows as a lower minority CE at an unchanged AUC.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import balanced_accuracy_score, brier_score_loss, f1_score, log_loss, roc_auc_score

from synthscale.splits import Task
from synthscale.targets import ALL_GROUPS, CLASSES, TASK_TARGETS, class_keys, group_keys

PROB_CLIP = 1e-7
# results columns where a larger value is better (with their `_cal` twins); every other metric
# (cross-entropies, Brier) is a loss
HIGHER_IS_BETTER = frozenset(
    {"auc", "balanced_accuracy", "minority_f1", "auc_a0", "auc_a1", "balanced_accuracy_cal"}
)
DECISION_THRESHOLD = 0.5


def cross_entropy(y: np.ndarray, p: np.ndarray) -> float:
    """Mean binary cross-entropy after clipping p to [PROB_CLIP, 1 - PROB_CLIP]."""
    clipped = np.clip(np.asarray(p, dtype=np.float64), PROB_CLIP, 1.0 - PROB_CLIP)
    return float(log_loss(y, clipped, labels=[0, 1]))


def compute_risks(y: np.ndarray, p: np.ndarray, task: Task, a: np.ndarray | None = None) -> dict[str, float]:
    """All risks of one fit on the test set, keyed as in results.csv."""
    risks = {"overall_ce": cross_entropy(y, p)}
    row_keys = {"class": class_keys(y)}
    targets = list(CLASSES)
    if a is not None:
        row_keys["group"] = group_keys(y, a)
        targets += ALL_GROUPS
    for target in targets:
        rows = row_keys["group" if target.is_group else "class"] == target
        risks[f"ce_{target}"] = cross_entropy(y[rows], p[rows])
    task_targets = TASK_TARGETS[task]
    if task == "imbalance":
        risks["minority_ce"] = risks[f"ce_{task_targets.minority[0]}"]
    else:
        agree = np.isin(row_keys["group"], task_targets.minority)
        risks["minority_ce"] = cross_entropy(y[agree], p[agree])
    group_risks = [risks[f"ce_{target}"] for target in task_targets.all]
    risks["balanced_ce"] = float(np.mean(group_risks))
    risks["worst_group_ce"] = float(np.max(group_risks))
    risks["balanced_accuracy"] = float(balanced_accuracy_score(y, p >= DECISION_THRESHOLD))
    risks["minority_f1"] = float(f1_score(y, p >= DECISION_THRESHOLD, pos_label=1, zero_division=0.0))
    risks.update(discrimination(y, p, a))
    return risks


def balanced_brier(y: np.ndarray, p: np.ndarray, task: Task, a: np.ndarray | None = None) -> float:
    """The Brier score within each of the task's groups (classes, or the four groups),
    averaged: the Brier twin of balanced_ce, for probabilities calibrated to a balanced prior."""
    keys = class_keys(y) if task == "imbalance" else group_keys(y, a)
    scores = [brier_score_loss(y[keys == t], p[keys == t], labels=[0, 1]) for t in TASK_TARGETS[task].all]
    return float(np.mean(scores))


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
