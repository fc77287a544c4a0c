"""Which language to answer in: the account's own choice, else the first the browser asks for that we have."""

from typing import Final

ENGLISH: Final = "en"
FRENCH: Final = "fr"
SUPPORTED: Final = (ENGLISH, FRENCH)
NAMES: Final = {ENGLISH: "English", FRENCH: "Français"}


def supported(tag: str | None) -> str | None:
    """The language of a tag such as `fr-CA` or `en_GB` when we speak it, else None."""
    if not tag:
        return None
    primary = tag.replace("_", "-").split("-", 1)[0].strip().lower()
    return primary if primary in SUPPORTED else None


def negotiate(accept_language: str | None, chosen: str | None = None) -> str:
    """The account's choice wins; then Accept-Language by its q-values (RFC 9110 §12.5.4); then English."""
    if supported(chosen):
        return supported(chosen) or ENGLISH
    if not accept_language:
        return ENGLISH
    ranked = sorted(_weighted(accept_language), key=lambda pair: -pair[1])
    for tag, weight in ranked:
        found = supported(tag)
        if found and weight > 0:
            return found
    return ENGLISH


def _weighted(header: str) -> list[tuple[str, float]]:
    """Each language range with its weight, in header order; a malformed weight counts as 0 (not acceptable)."""
    ranges = []
    for part in header.split(",")[:32]:
        tag, _, parameters = part.strip().partition(";")
        weight = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                weight = _quality(value.strip())
        ranges.append((tag.strip(), weight))
    return ranges


def _quality(text: str) -> float:
    """RFC 9110's qvalue: 0 to 1 with at most three decimals; this weight only ranks, it never touches money."""
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return value if 0.0 <= value <= 1.0 else 0.0
