"""One function per command: load what it needs, call the stage that does the work, print
where the output went."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pandas as pd
import yaml

from synthscale._io import atomic_write, check_output_file
from synthscale.config import describe_builtin_sweeps, describe_config, load_config
from synthscale.errors import SynthscaleError

# the columns every results.csv has: what tells it from any other CSV
RESULTS_IDENTITY = ("dataset", "task", "experiment", "method", "seed")


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


def run_command(args: argparse.Namespace) -> int:
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


def report_command(args: argparse.Namespace) -> int:
    from synthscale._io import check_output_dir
    from synthscale.fit import fit_results
    from synthscale.report import SUMMARY_COLUMNS, export_table, write_report
    from synthscale.sweep.layout import OutDir
    from synthscale.worth import with_worth, worth_if_priced

    results = _read_results(args.results)
    sweep_dir = OutDir.of_results(args.results)
    out_dir = check_output_dir(Path(args.out) if args.out else sweep_dir.report, "-o")
    worth = worth_if_priced(results)  # computed once: the exponents table and the report's lead
    if (results["experiment"] == "augment").any():
        exponents = fit_results(results, args.metric, args.theory_alpha, flat_tolerance=args.flat_tolerance)
        exponents = with_worth(exponents, worth)
        export_table(exponents, out_dir, "exponents", SUMMARY_COLUMNS)
    else:  # ratio or native alone: figures and the leaderboard, no scaling law to fit
        exponents = pd.DataFrame(columns=SUMMARY_COLUMNS)
    config_text = sweep_dir.config.read_text() if sweep_dir.config.is_file() else ""
    seed_size = _seed_size(config_text)
    pools = pd.read_csv(sweep_dir.pools_table) if sweep_dir.pools_table.is_file() else None
    index = write_report(
        results, exponents, out_dir, args.metric, config_text, seed_size, args.theory_alpha, pools, worth
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


def fit_command(args: argparse.Namespace) -> int:
    from synthscale._io import check_output_dir
    from synthscale.data.published import published_results, published_source
    from synthscale.fit import fit_results, ratio_gaps, residual_table
    from synthscale.report import SUMMARY_COLUMNS, export_table, markdown_table
    from synthscale.sweep.layout import OutDir
    from synthscale.worth import WORTH_COLUMNS, unpriced_reason, with_worth, worth_if_priced

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
        out_dir = Path(args.out) if args.out else OutDir.of_results(args.results).fit_tables
    check_output_dir(out_dir, "-o")
    exponents = fit_results(
        results,
        args.metric,
        args.theory_alpha,
        args.epsilon,
        seed_effects=not args.no_seed_levels,
        flat_tolerance=args.flat_tolerance,
    )
    unpriced = "the published curves have no oracle" if args.published else unpriced_reason(results)
    worth = pd.DataFrame() if args.published else worth_if_priced(results)
    exponents = with_worth(exponents, worth)
    written = export_table(exponents, out_dir, "exponents", SUMMARY_COLUMNS)
    if not worth.empty:
        written += export_table(worth, out_dir, "worth", WORTH_COLUMNS)
    written += export_table(residual_table(results, exponents), out_dir, "residuals", formats=("csv", "json"))
    gaps = ratio_gaps(results, args.metric) if (results["experiment"] == "ratio").any() else pd.DataFrame()
    if not gaps.empty:
        written += export_table(gaps, out_dir, "ratio_gaps")
    columns = [c for c in ("dataset", "task", "method", "classifier", "data_access", "curve_class",
               "slope_per_decade", "alpha", "alpha_ci_low", "alpha_ci_high") if c in exponents.columns]  # fmt: skip
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
    if unpriced:
        print(f"worth in real rows: none ({unpriced})")
    else:
        _print_worth(worth)
    print(f"written -> {', '.join(str(p) for p in written)}")
    if not args.published and not args.no_mlflow:
        _log_to_sweep(Path(args.results), exponents, written, folder="fit", worth=worth)
    return 0


def _print_worth(worth: pd.DataFrame) -> None:
    """Each method's rows at the largest k or N, priced in real rows."""
    from synthscale.worth import largest_worth

    if worth.empty:
        return
    print("\nworth in real rows at the largest k or N (95% seed-bootstrap interval):")
    for row in largest_worth(worth).to_dict("records"):
        name = "/".join(
            str(row[k]) for k in ("dataset", "task", "experiment", "method", "data_access") if row.get(k)
        )
        print(f"{name} ({row['metric']}, {row['rows_added']:,.0f} rows added): {row['worth']}")


def _log_to_sweep(
    results_path: Path,
    exponents: pd.DataFrame | None,
    files: list[Path],
    folder: str,
    worth: pd.DataFrame | None = None,
) -> None:
    """Attach a fit or a report to the sweep's MLflow parent run when the results came from a
    sweep: the exponents and the worth at each curve's largest point as metrics, the files as
    artifacts under `folder`."""
    from synthscale.fit import fit_metrics
    from synthscale.sweep.runner import sweep_tracker_for_results
    from synthscale.worth import worth_metrics

    tracker = sweep_tracker_for_results(results_path)
    if tracker is None:
        print(
            f"note: no finished sweep's MLflow run beside the results; the {folder} is not logged to MLflow"
        )
        return
    if exponents is not None:
        tracker.log_parent_metrics(fit_metrics(exponents))
    if worth is not None and not worth.empty:
        tracker.log_parent_metrics(worth_metrics(worth))
    tracker.log_parent_artifacts(files, folder=folder)
    print(f"logged to MLflow run {tracker.parent_id} ({tracker.uri})")


def export_command(args: argparse.Namespace) -> int:
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


def generate_command(args: argparse.Namespace) -> int:
    from synthscale._io import write_csv_atomic
    from synthscale.data.loaders import prepare_dataset
    from synthscale.data.reading import read_table
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


def datasets_command(args: argparse.Namespace) -> int:
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


def config_command(args: argparse.Namespace) -> int:
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
