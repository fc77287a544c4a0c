"""A free TCP port on loopback, for instances started side by side on one machine (the demo, the tests)."""

import socket


def free_port() -> int:
    """The OS picks a port nobody listens on; it may be taken again before use, which loopback setups accept."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
