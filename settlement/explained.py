"""Refusals a person reads, kept as their English sentence's template and the values that fill it.

Settlement knows nothing of languages; whoever shows the refusal to a person
translates the template first, then fills it in (`server.i18n`), while
`str(error)` and `message` stay the English sentence that the API, the CLI
and the logs show.
"""


class Explained(ValueError):
    """`code` is stable, for programs; `template` has `%(name)s` placeholders that `params` fill."""

    def __init__(self, code: str, template: str, params: dict[str, str | int] | None = None) -> None:
        self.code, self.template, self.params = code, template, params or {}
        self.message = template % self.params if params else template
        super().__init__(self.message)
