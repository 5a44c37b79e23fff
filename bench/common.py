"""What several benchmarks share."""

import argparse

# The fits, not LLM training: the quickstart's classic and reference samplers (the 568-fit grid
# the sweep-overhead target of issue #3 was set on).
CLASSIC_METHODS = "methods=[raw,ros,smote,adasyn,independent,gaussian_copula,ros_aug,smote_aug,adasyn_aug]"

# the label and attribute columns of the paper's two real tables, read from a path
TABLE_COLUMNS = {"adult": ("income", "sex"), "gender": ("gender", "long_hair")}


def dataset_overrides(name: str, adult: str | None) -> list[str]:
    """`--set` overrides that make `name` the sweep's dataset: craft, or adult from a file
    (label income, attribute sex) or else from OpenML."""
    if name == "craft":
        return ["dataset.name=craft"]
    if adult:
        label, attribute = TABLE_COLUMNS["adult"]
        return [
            "dataset.name=null",
            f"dataset.path={adult}",
            f"dataset.label={label}",
            f"dataset.spurious={attribute}",
        ]
    return ["dataset.name=adult"]  # OpenML, cached under dataset.cache_dir


def add_replicate_arguments(parser: argparse.ArgumentParser) -> None:
    """--seeds, --datasets (craft, adult) and --adult, as the information and worth benches take them."""
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--datasets", nargs="+", default=["craft", "adult"])
    parser.add_argument("--adult", help="adult.csv (label income, attribute sex); default: OpenML")
