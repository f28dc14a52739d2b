"""The suite's guard: no test reaches past this machine (tests/conftest.py, no_network)."""

import smtplib
import socket

import pytest

from tests.conftest import _loopback


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        (("127.0.0.1", 5432), True),
        (("127.8.9.10", 80), True),
        (("::1", 6379, 0, 0), True),
        (("localhost", 25), True),
        ("/tmp/socket", True),
        (("93.184.216.34", 443), False),
        (("10.0.0.1", 25), False),
        (("smtp.example.com", 587), False),
    ],
)
def test_only_loopback_addresses_are_allowed(address, allowed):
    assert _loopback(address) is allowed


def test_a_connection_out_is_refused_and_reported(no_network):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("93.184.216.34", 80), timeout=1)
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP("192.0.2.25", 25, timeout=1)
    assert no_network == ["('93.184.216.34', 80)", "('192.0.2.25', 25)"]
    no_network.clear()  # seen: the guard would fail this test otherwise


def test_loopback_servers_stay_reachable():
    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname(), timeout=1) as connection,
    ):
        assert connection.getpeername() == server.getsockname()
