"""Joining a cluster at --address: which token Ray would send, and one line saying whether the
address, the token or the versions are wrong (the live cluster: test_ray_start.py)."""

from __future__ import annotations

import platform

import pytest
import ray

from synthscale.errors import SynthscaleError
from synthscale.sweep import connect
from synthscale.sweep.connect import check_head, token_source, use_token_if_available, version_mismatch

ADDRESS = "10.0.0.5:6379"


class AuthenticationError(Exception):
    """Named as Ray's, which check_head recognises by name (Ray's own needs a live cluster)."""


@pytest.fixture
def clean_auth_env(monkeypatch, tmp_path):
    """No token anywhere Ray looks, no mode set, and the Ray config refresh recorded instead of
    done (it would switch this test process's Ray into token mode)."""
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.setenv(name, "")  # recorded, so what the code sets is undone after the test
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    refreshed = []
    monkeypatch.setattr(connect, "refresh_ray_config", lambda: refreshed.append(True))
    return refreshed


def test_the_token_is_found_where_ray_looks_in_its_order(clean_auth_env, monkeypatch, tmp_path):
    assert token_source() is None
    home_token = tmp_path / ".ray" / "auth_token"
    home_token.parent.mkdir()
    home_token.write_text("abc\n")
    assert token_source() == str(home_token)
    other = tmp_path / "token"
    other.write_text("def")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(other))
    assert token_source() == str(other)
    monkeypatch.setenv("RAY_AUTH_TOKEN", "ghi")
    assert token_source() == "$RAY_AUTH_TOKEN"
    other.write_text("  \n")  # an empty file is no token
    monkeypatch.delenv("RAY_AUTH_TOKEN")
    assert token_source() is None


def test_token_mode_is_turned_on_only_when_unset_and_a_token_is_here(clean_auth_env, monkeypatch):
    use_token_if_available()
    assert "RAY_AUTH_MODE" not in connect.os.environ and not clean_auth_env
    monkeypatch.setenv("RAY_AUTH_TOKEN", "abc")
    use_token_if_available()
    assert connect.os.environ["RAY_AUTH_MODE"] == "token" and clean_auth_env == [True]
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # the user's choice stands
    use_token_if_available()
    assert connect.os.environ["RAY_AUTH_MODE"] == "disabled" and clean_auth_env == [True]


@pytest.fixture
def answering_socket(monkeypatch):
    """Something accepts the TCP connection at every address."""

    class Connection:
        def close(self) -> None:
            pass

    monkeypatch.setattr(connect.socket, "create_connection", lambda *args, **kwargs: Connection())


HEAD = {"ray_version": ray.__version__, "python_version": platform.python_version()}


def test_the_token_is_sent_only_to_a_head_that_asks_for_one(clean_auth_env, monkeypatch, answering_socket):
    """A token here must not switch a driver into token mode for a cluster without
    authentication: Ray then starts none of its actors."""
    monkeypatch.setenv("RAY_AUTH_TOKEN", "abc")
    probes = []

    def open_head(address):
        probes.append(connect.os.environ.get("RAY_AUTH_MODE"))
        return HEAD

    joined = []
    monkeypatch.setattr(connect, "probe_head", open_head)
    monkeypatch.setattr(connect.ray, "is_initialized", lambda: False)
    monkeypatch.setattr(
        connect.ray, "init", lambda **_: joined.append(connect.os.environ.get("RAY_AUTH_MODE"))
    )
    connect.connect_ray(ADDRESS, None)
    assert probes == [None] and joined == [None] and not clean_auth_env

    probes.clear()

    def token_head(address):
        probes.append(connect.os.environ.get("RAY_AUTH_MODE"))
        if connect.os.environ.get("RAY_AUTH_MODE") != "token":
            return AuthenticationError("InvalidAuthToken: Authentication token is missing")
        return HEAD

    monkeypatch.setattr(connect, "probe_head", token_head)
    connect.check_ray_address(ADDRESS)  # asked without, refused, asked again with the token
    assert probes == [None, "token"] and clean_auth_env == [True]


def test_a_head_that_asks_for_a_token_none_of_which_is_here_is_named(
    clean_auth_env, monkeypatch, answering_socket
):
    monkeypatch.setattr(connect, "probe_head", lambda address: AuthenticationError("InvalidAuthToken"))
    with pytest.raises(SynthscaleError, match="requires a Ray auth token and none is found here"):
        connect.check_ray_address(ADDRESS)
    assert "RAY_AUTH_MODE" not in connect.os.environ


def test_a_refused_token_says_which_token_and_the_fix(clean_auth_env, monkeypatch):
    refused = AuthenticationError("RPC error: InvalidAuthToken: Authentication token is missing")
    with pytest.raises(SynthscaleError, match="none is found here; copy the head's token") as none:
        check_head(ADDRESS, refused)
    assert str(none.value).startswith(f"--address {ADDRESS}: the cluster requires a Ray auth token")
    monkeypatch.setenv("RAY_AUTH_TOKEN", "stale")
    with pytest.raises(SynthscaleError, match=r"refused the Ray auth token from \$RAY_AUTH_TOKEN"):
        check_head(ADDRESS, refused)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    with pytest.raises(SynthscaleError, match="RAY_AUTH_MODE=disabled here; unset it"):
        check_head(ADDRESS, refused)


def test_no_reply_another_service_and_versions_each_have_their_line():
    with pytest.raises(SynthscaleError, match="no Ray head replied within 10 s; check the port"):
        check_head(ADDRESS, None)
    with pytest.raises(SynthscaleError, match="no Ray head there"):
        check_head(ADDRESS, OSError("protocol error"))
    ours = {"ray_version": ray.__version__, "python_version": platform.python_version()}
    check_head(ADDRESS, ours)  # a matching head passes
    with pytest.raises(
        SynthscaleError, match=r"Ray 2\.9\.0 on the cluster, .* here; install the cluster's Ray"
    ):
        check_head(ADDRESS, {**ours, "ray_version": "2.9.0"})


def test_python_versions_match_to_the_level_ray_checks(monkeypatch):
    major, minor, patch = platform.python_version_tuple()
    other_patch = f"{major}.{minor}.{int(patch) + 1}"
    head = {"ray_version": ray.__version__, "python_version": other_patch}
    assert f"Python {other_patch} on the cluster" in version_mismatch(head)
    monkeypatch.setenv("RAY_DEFAULT_PYTHON_VERSION_MATCH_LEVEL", "minor")
    assert version_mismatch(head) is None


def test_ray_inits_version_error_becomes_one_line(monkeypatch):
    def mismatched(**_):
        raise RuntimeError("Version mismatch: The cluster was started with:\n    Ray: 2.9.0\n")

    monkeypatch.setattr(connect, "check_ray_address", lambda address: None)
    monkeypatch.setattr(connect.ray, "is_initialized", lambda: False)
    monkeypatch.setattr(connect.ray, "init", mismatched)
    with pytest.raises(
        SynthscaleError, match=r"Version mismatch: The cluster was started with: Ray: 2\.9\.0; install"
    ):
        connect.connect_ray(ADDRESS, None)
