"""Command line: parse, load the config, call one function, print errors without tracebacks."""

from __future__ import annotations

import logging
import os
import sys

from synthscale.cli import commands
from synthscale.cli.commands import SweepInterrupted
from synthscale.cli.parser import build_parser
from synthscale.errors import SynthscaleError

__all__ = ["EXIT_INTERRUPTED", "EXIT_USER_ERROR", "actionable", "build_parser", "main"]
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
COMMANDS = {
    "run": commands.run_command,
    "fit": commands.fit_command,
    "report": commands.report_command,
    "generate": commands.generate_command,
    "export": commands.export_command,
    "datasets": commands.datasets_command,
    "config": commands.config_command,
}


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
        return COMMANDS[args.command](args)
    except SynthscaleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except SweepInterrupted as stopped:
        print(f"\ninterrupted{stopped.resume_hint()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `synthscale config --keys | head`: the reader had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
