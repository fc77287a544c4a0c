"""HTTP server and CLI: the only package that wires federation and settlement."""
