"""`mecene`, the command line: `main` parses arguments, one pair of modules per family of commands does the work.

`X_parser` declares a family's arguments and help and imports nothing of the
server; `X_commands` runs them and is imported by the parser's run function
only when one of its commands runs. `paths` (where the instance lives),
`errors` (the command error) and `shared` (an opened instance) import nothing
else of the CLI, so no module imports `main`, which imports every parser.
Nothing outside this package imports it but `server.cli.__main__` and the
`mecene` script.
"""
