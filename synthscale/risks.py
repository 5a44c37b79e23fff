"""Test risks of the paper: per-group cross-entropy R^(g), the balanced risk R_bal, and more.

The task decides the groups: the two classes (imbalance) or the four (attribute, label)
groups (spurious). Probabilities are clipped once, so no inf or NaN reaches a result.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import balanced_accuracy_score, log_loss

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
    return risks
