"""The error a `mecene` command stops with, in a module of its own so that `main` can catch it without importing the
server."""


class CommandError(Exception):
    """A command could not do what was asked; the message says why, for the operator."""
