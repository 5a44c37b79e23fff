"""Join Ray: an embedded local Ray, or the cluster at `--address` with its token and versions.

Ray turns token authentication on for a cluster that `ray start --head` makes whenever
a token exists on that machine (`~/.ray/auth_token`, which any local `ray.init()` leaves
behind), but a driver given an explicit address sends its token only when RAY_AUTH_MODE=token
is set. So a driver on the same machine as such a head is refused with a bare "cannot
connect". The other way round is worse: a driver in token mode joins a cluster without
authentication, but none of its actors ever starts ("cancelled before it started running").
So the head is asked first, without a token; only when it refuses for want of one, and a
token is here (RAY_AUTH_MODE unset), is token mode turned on. Before `ray.init`, which retries
for a minute whatever is wrong, the address is probed in seconds and the error says which of
address, token or version is wrong, with the fix.
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import threading
from pathlib import Path

import ray

from synthscale.errors import SynthscaleError

RAY_PROBE_SECONDS = 5  # an address that does not answer fails within this, not after Ray's retries
GCS_PROBE_SECONDS = 10  # something answers, but is it Ray's GCS? (Ray's own client waits 40 s)
AUTH_MODE_VAR, TOKEN_VAR, TOKEN_PATH_VAR = "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"
TOKEN_DOCS = "https://docs.ray.io/en/latest/ray-security/token-auth.html"
VERSION_FIX = "install the cluster's Ray and Python versions here (pip install 'ray[tune]==<its version>')"


def connect_ray(address: str | None, num_cpus: int | None) -> bool:
    """Join `address` or start an embedded local Ray; False when Ray was already running."""
    if address:
        check_ray_address(address)
    if ray.is_initialized():
        return False
    if not address:
        # an embedded Ray on this machine: its note that token authentication is on is not for the user
        logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
        ray.init(
            num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False
        )
        return True
    try:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    except ConnectionError as exc:
        raise SynthscaleError(f"--address {address}: cannot reach a Ray cluster ({exc})") from exc
    except RuntimeError as exc:
        if "Version mismatch" not in str(exc):
            raise
        raise SynthscaleError(f"--address {address}: {' '.join(str(exc).split())}; {VERSION_FIX}") from exc
    return True


def token_source() -> str | None:
    """Where Ray reads a token from, in its own order, or None when there is none here."""
    if os.environ.get(TOKEN_VAR):
        return f"${TOKEN_VAR}"
    path = Path(os.environ.get(TOKEN_PATH_VAR) or Path.home() / ".ray" / "auth_token").expanduser()
    return str(path) if path.is_file() and path.read_text().strip() else None


def use_token_if_available() -> bool:
    """RAY_AUTH_MODE unset and a token here: send it from now on; True if so. Only for a head
    that asks for a token: on a cluster without authentication a driver in token mode starts
    no actor. An explicit RAY_AUTH_MODE is the user's and is left alone."""
    if os.environ.get(AUTH_MODE_VAR) is not None or token_source() is None:
        return False
    os.environ[AUTH_MODE_VAR] = "token"
    refresh_ray_config()
    return True


def refresh_ray_config() -> None:
    """Ray caches its config: reload it from the environment, as `ray start` does when it
    turns token mode on."""
    try:
        from ray._raylet import Config

        Config.initialize("")
    except (ImportError, AttributeError):  # another Ray layout: the variable alone reaches ray.init
        pass


def check_ray_address(address: str) -> None:
    """A HOST:PORT (or ray://HOST:PORT) address must accept a connection within seconds and,
    when plain HOST:PORT, be a Ray head that takes us (with the token here, if it asks for
    one) and runs our versions. `auto` is left to Ray, which fails at once when no cluster
    runs here and sends the token itself."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if address == "auto" or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=RAY_PROBE_SECONDS).close()
    except OSError as exc:
        raise SynthscaleError(
            f"--address {address}: nothing answers at {host}:{port} within {RAY_PROBE_SECONDS} s ({exc}); "
            "start the cluster (ray start --head) or check the address"
        ) from exc
    if address.startswith("ray://"):  # Ray Client speaks another protocol: ray.init checks it
        use_token_if_available()
        return
    probed = probe_head(address)
    if is_token_refusal(probed) and use_token_if_available():
        probed = probe_head(address)
    check_head(address, probed)


def is_token_refusal(probed: dict | BaseException | None) -> bool:
    """The head refused the probe for a missing or wrong token."""
    return isinstance(probed, BaseException) and (
        type(probed).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(probed)
    )


def probe_head(address: str) -> dict | BaseException | None:
    """The cluster's metadata (Ray and Python versions) read from its GCS, the exception the
    GCS client raised, or None when no reply came within GCS_PROBE_SECONDS. In a daemon
    thread: Ray's client has no timeout of its own."""
    outcome: list = []

    def probe() -> None:
        try:
            from ray._common.usage.usage_lib import get_cluster_metadata
            from ray._raylet import GcsClient

            outcome.append(get_cluster_metadata(GcsClient(address=address)) or {})
        except BaseException as exc:  # noqa: BLE001 - reported to the caller, whatever it is
            outcome.append(exc)

    worker = threading.Thread(target=probe, daemon=True, name="synthscale-ray-probe")
    worker.start()
    worker.join(GCS_PROBE_SECONDS)
    return outcome[0] if outcome else None


def check_head(address: str, probed: dict | BaseException | None) -> None:
    """Turn what the probe found into one line naming what is wrong and the fix."""
    if probed is None:
        raise SynthscaleError(
            f"--address {address}: something answers there but no Ray head replied within "
            f"{GCS_PROBE_SECONDS} s; check the port (the head's `ray start --port`, 6379 by default)"
        )
    if isinstance(probed, BaseException):
        if is_token_refusal(probed):
            raise SynthscaleError(f"--address {address}: {token_problem()}")
        if isinstance(probed, ImportError):  # another Ray layout: ray.init finds out itself
            return
        raise SynthscaleError(f"--address {address}: no Ray head there ({type(probed).__name__}: {probed})")
    mismatch = version_mismatch(probed)
    if mismatch:
        raise SynthscaleError(f"--address {address}: {mismatch}; {VERSION_FIX}")


def token_problem() -> str:
    """Why the head refused us, from what this machine has."""
    source, mode = token_source(), os.environ.get(AUTH_MODE_VAR)
    copy = (
        "copy the head's token (`ray get-auth-token` on the head) to ~/.ray/auth_token here, or set "
        f"{TOKEN_VAR} or {TOKEN_PATH_VAR}"
    )
    if mode is not None and mode.lower() != "token":
        return (
            f"the cluster requires a Ray auth token and {AUTH_MODE_VAR}={mode} here; "
            f"unset it or set {AUTH_MODE_VAR}=token, and {copy} ({TOKEN_DOCS})"
        )
    if source is None:
        return f"the cluster requires a Ray auth token and none is found here; {copy} ({TOKEN_DOCS})"
    return (
        f"the cluster refused the Ray auth token from {source} (a different cluster's token?); {copy}; "
        f"or start the head with {AUTH_MODE_VAR}=disabled on a trusted network ({TOKEN_DOCS})"
    )


def version_mismatch(metadata: dict) -> str | None:
    """What differs between the cluster's Ray/Python and ours, as Ray itself checks it (Ray
    exactly, Python to the patch level unless RAY_DEFAULT_PYTHON_VERSION_MATCH_LEVEL=minor)."""
    cluster_ray, cluster_python = metadata.get("ray_version"), metadata.get("python_version")
    ours = platform.python_version()
    level = os.environ.get("RAY_DEFAULT_PYTHON_VERSION_MATCH_LEVEL", "patch")
    parts = 2 if level == "minor" else 3
    wrong = []
    if cluster_ray and cluster_ray != ray.__version__:
        wrong.append(f"Ray {cluster_ray} on the cluster, {ray.__version__} here")
    if cluster_python and cluster_python.split(".")[:parts] != ours.split(".")[:parts]:
        wrong.append(f"Python {cluster_python} on the cluster, {ours} here")
    return "; ".join(wrong) or None
