"""`mecene`, the command line: `main` parses arguments, one module per family of commands does the work.

`paths` (where the instance lives) and `shared` (the command error, an opened
instance) import nothing else of the CLI, so the command modules never import
`main`, which imports them all. Nothing outside this package imports it but
`server.cli.__main__` and the `mecene` script.
"""
