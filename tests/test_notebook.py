"""notebooks/scaling_analysis.ipynb runs top to bottom against a real sweep, so it cannot rot."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

from synthscale.config import validate_config
from synthscale.sweep.runner import run_sweep

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "scaling_analysis.ipynb"
SWEEP = {
    "name": "notebook",
    "dataset": {"name": "craft", "craft_rows": 2000},
    "split": {"seed_size": 40},
    "experiment": {
        "tasks": ["imbalance"],
        "protocols": ["ratio", "augment"],
        "seeds": [0, 1],
        "ratio": {"ks": [0, 2, 4]},
        "augment": {"n_aug": [0, 2, 4, 6, 8]},
    },
    "methods": ["raw", "smote", "smote_aug"],
    "resources": {"fits_per_trial": 20},
}


def code_cells(path: Path) -> list[tuple[list[str], str]]:
    notebook = json.loads(path.read_text())
    return [
        (cell["metadata"].get("tags", []), "".join(cell["source"]))
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
    ]


@pytest.fixture(scope="module")
def sweep_dir(ray_local, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("notebook_sweep")
    run_sweep(validate_config(SWEEP), out_dir, show_progress=False)
    return out_dir


def test_notebook_executes_against_a_sweep(sweep_dir, monkeypatch):
    """Every code cell runs in order in one namespace, the parameters cell pointed at the sweep."""
    matplotlib.use("Agg")
    monkeypatch.chdir(NOTEBOOK.parent)
    namespace: dict = {}
    cells = code_cells(NOTEBOOK)
    assert [tags for tags, _ in cells][0] == ["parameters"]
    for tags, source in cells:
        exec(compile(source, f"{NOTEBOOK.name}:{tags}", "exec"), namespace)
        if "parameters" in tags:
            namespace["RUN_DIR"] = sweep_dir
    assert len(namespace["fits"]) == len(namespace["results"])
    exponents = namespace["exponents"]
    assert set(exponents["method"]) == {"smote"}
    assert (exponents["alpha"].notna() | (exponents["notes"] != "")).all()  # an exponent or why not
    assert set(namespace["figures"]) == {("ratio", "imbalance"), ("augment", "imbalance")}
