"""What a sampler is asked for: a class, or an (attribute, label) group.

A `Target` is one of six: the classes 'y1' (the minority class) and 'y0', and the groups
'a0_y0' ... 'a1_y1' (attribute code, label) of the spurious task. It is a str, so its key is
what files, per-row target arrays and dict lookups hold; this module alone builds keys and
reads meaning out of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from synthscale.data.schema import Schema


class Target(str, Enum):
    Y0 = "y0"
    Y1 = "y1"
    A0_Y0 = "a0_y0"
    A0_Y1 = "a0_y1"
    A1_Y0 = "a1_y0"
    A1_Y1 = "a1_y1"

    __str__ = str.__str__  # 'y1', as a str (an Enum would print 'Target.Y1')
    __format__ = str.__format__

    @classmethod
    def of(cls, label: int, attribute: int | None = None) -> Target:
        """The class `label`, or the group (attribute, label) when an attribute is given."""
        return cls(f"y{int(label)}" if attribute is None else f"a{int(attribute)}_y{int(label)}")

    @property
    def label(self) -> int:
        """1 for the minority class (or a group of it), 0 for the majority."""
        return int(self.value[-1])

    @property
    def attribute(self) -> int | None:
        """The spurious attribute's code (its index in Schema.spurious_values) in a group."""
        return int(self.value[1]) if self.is_group else None

    @property
    def is_group(self) -> bool:
        return self.value.startswith("a")

    def label_value(self, schema: Schema) -> object:
        """The label column's value of this target's rows."""
        return schema.minority_value if self.label == 1 else schema.majority_value

    def attribute_value(self, schema: Schema) -> object:
        """The spurious column's value of this group's rows."""
        assert self.is_group and schema.spurious_values is not None, f"{self} is not a group"
        return schema.spurious_values[self.attribute]

    def describe(self, schema: Schema) -> str:
        """'y1' -> "(income=>50K)", 'a0_y1' -> "(sex=Female, income=>50K)"."""
        parts = [f"{schema.label}={self.label_value(schema)}"]
        if self.is_group:
            parts.insert(0, f"{schema.spurious}={self.attribute_value(schema)}")
        return "(" + ", ".join(parts) + ")"


MINORITY_CLASS, MAJORITY_CLASS = Target.Y1, Target.Y0
CLASSES = (MAJORITY_CLASS, MINORITY_CLASS)
AGREE_GROUPS = (Target.A1_Y1, Target.A0_Y0)  # attribute == label: the spurious task's minority
DISAGREE_GROUPS = (Target.A1_Y0, Target.A0_Y1)
ALL_GROUPS = (Target.A0_Y0, Target.A0_Y1, Target.A1_Y0, Target.A1_Y1)


@dataclass(frozen=True)
class TaskTargets:
    """The minority and majority targets of a task; sizes are split evenly across each list."""

    minority: tuple[Target, ...]
    majority: tuple[Target, ...]

    @property
    def all(self) -> tuple[Target, ...]:
        return (*self.minority, *self.majority)


TASK_TARGETS: dict[str, TaskTargets] = {
    "imbalance": TaskTargets((MINORITY_CLASS,), (MAJORITY_CLASS,)),
    "spurious": TaskTargets(AGREE_GROUPS, DISAGREE_GROUPS),
}


def class_keys(y: np.ndarray) -> np.ndarray:
    """Each row's class key ('y0' or 'y1')."""
    return np.where(np.asarray(y) == 1, MINORITY_CLASS.value, MAJORITY_CLASS.value)


def group_keys(y: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Each row's (attribute, label) group key ('a0_y1', ...)."""
    return np.char.add(
        np.char.add("a", np.asarray(a).astype(str)), np.char.add("_y", np.asarray(y).astype(str))
    )


def labels_of(keys: np.ndarray) -> np.ndarray:
    """The label (0/1) of each target key in an array of them."""
    return np.char.endswith(np.asarray(keys).astype(str), "y1").astype(np.int64)
