"""Datasets: the simulated craft table, files by path, and the OpenML adult loader."""

from synthscale.data.craft import make_craft
from synthscale.data.loaders import load_dataset, prepare_dataset
from synthscale.data.schema import Dataset, Schema

__all__ = ["Dataset", "Schema", "load_dataset", "make_craft", "prepare_dataset"]
