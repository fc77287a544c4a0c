"""The translations, read from the gettext catalogues in this package once per process.

The `.po` files are the source and the only form kept in the repository: each
is compiled in memory when first needed (Babel's own reader and writer), so
no build step can leave a stale `.mo` behind. A message the catalogue lacks,
or holds only as fuzzy, is shown in English rather than guessed.
"""

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from server.i18n.locales import ENGLISH, SUPPORTED

FOLDER = Path(__file__).parent / "locale"
DOMAIN = "messages"


def catalogue_path(locale: str) -> Path:
    return FOLDER / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """English is the source language: its messages are their own translation."""
    if locale == ENGLISH or locale not in SUPPORTED:
        return gettext.NullTranslations()
    with catalogue_path(locale).open("rb") as source:
        catalogue = read_po(source, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
