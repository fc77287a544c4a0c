"""A free TCP port on a loopback address, for instances started side by side on one machine (the demo, the tests)."""

import socket


def free_port(address: str = "127.0.0.1") -> int:
    """The OS picks a port nobody listens on; it may be taken again before use, which loopback setups accept."""
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]
