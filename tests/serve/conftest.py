"""The `classroom` fixture: a real `netlab serve` (tests/serve/serverkit.py)."""
from __future__ import annotations

import pytest
from serverkit import Server, start_server, stop_server, write_roster


@pytest.fixture
def classroom(tmp_path, request):
    """A server with: teacher (instructor, key), alice (key), dave (key only), bob and carol
    (password, group `team`). Extra serve flags via @pytest.mark.serve_args(...)."""
    marker = request.node.get_closest_marker("serve_args")
    extra = marker.args if marker else ()
    keys = write_roster(tmp_path, {"teacher": {"role": "instructor", "key": True}, "alice": {"key": True},
                                   "dave": {"key": True, "password": False}, "bob": {}, "carol": {}},
                        {"team": ["bob", "carol"]})
    proc, port = start_server(tmp_path, *extra)
    yield Server(tmp_path, port, proc, keys)
    stop_server(proc)


def pytest_configure(config):
    config.addinivalue_line("markers", "serve_args(*flags): extra `netlab serve` flags for the classroom fixture")
