"""Does the link `synthscale run` prints open the sweep's runs table? Checked in a real browser.

Starts `mlflow server` on a sweep's store (a small classic sweep run here, or the --out
directory you pass), loads the runs-table link synthscale prints in headless Chromium (its
DOM after the page's scripts ran), and checks that the runs table is there and lists the
sweep's parent run by name. Prints what it found and the seconds each step took; exits 1 when
the table or the run is missing. Needs a Chromium (`apt install chromium`, or --chromium PATH).

usage: python bench/mlflow_ui.py [OUT_DIR] [--chromium PATH] [--screenshot FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from common import CLASSIC_METHODS

from synthscale.config import load_config
from synthscale.sweep.layout import OutDir
from synthscale.sweep.runner import run_sweep, sweep_tracker_for_results

SMALL = [CLASSIC_METHODS, "experiment.seeds=[0]", "experiment.tasks=[imbalance]", "name=ui-check"]
TABLE_MARKERS = ('data-testid="experiment-view-table-run-color"', 'data-testid="sort-header-Created"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_ui(out: OutDir, port: int) -> subprocess.Popen:
    """`mlflow server` on the sweep's store, as the line synthscale prints tells the user to."""
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", out.default_tracking_uri,
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok:
                return server
        except requests.RequestException:
            time.sleep(0.5)
    server.kill()
    sys.exit(f"mlflow server on port {port} did not come up in 90 s")


def rendered_dom(chromium: str, url: str, screenshot: Path | None) -> str:
    """The page's DOM once its scripts have run (virtual time lets the fetches finish)."""
    flags = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
             "--virtual-time-budget=20000"]  # fmt: skip
    if screenshot is not None:
        subprocess.run([*flags, f"--screenshot={screenshot}", url], capture_output=True, timeout=120)
    return subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir", nargs="?", help="a finished sweep's --out (default: run a small one here)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    parser.add_argument("--screenshot", type=Path, help="also save what the browser shows")
    args = parser.parse_args()
    if not args.chromium:
        sys.exit("no Chromium found: apt install chromium, or pass --chromium PATH")
    started = time.perf_counter()
    if args.out_dir is None:
        out = OutDir(Path(tempfile.mkdtemp(prefix="synthscale-ui-")) / "out")
        run_sweep(load_config("sweeps/quickstart.yaml", SMALL), out.root, show_progress=False)
    else:
        out = OutDir(Path(args.out_dir))
    tracker = sweep_tracker_for_results(out.results)
    if tracker is None:
        sys.exit(f"{out.root}: no finished sweep with a default MLflow store there")
    run_name = tracker.client.get_run(tracker.parent_id).info.run_name
    sweep_seconds = time.perf_counter() - started
    port = free_port()
    server = start_ui(out, port)
    try:
        url = f"http://127.0.0.1:{port}/#/experiments/{tracker.experiment_id}/runs"  # as `run` prints it
        loaded = time.perf_counter()
        dom = rendered_dom(args.chromium, url, args.screenshot)
        page_seconds = time.perf_counter() - loaded
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    table = all(marker in dom for marker in TABLE_MARKERS)
    listed = f">{run_name}<" in dom
    print(f"sweep: {out.root} ({sweep_seconds:.0f} s); parent run {run_name!r}")
    print(f"page:  {url} rendered in {page_seconds:.1f} s ({len(dom):,} characters of DOM)")
    print(f"runs table shown: {table}; the sweep's run listed by name: {listed}")
    sys.exit(0 if table and listed else 1)


if __name__ == "__main__":
    main()
