"""Passwords, hashed with Argon2id through argon2-cffi (its defaults follow RFC 9106's recommendation).

Hashing costs tens of milliseconds of CPU and 64 MiB by design, so it runs in
worker threads of its own and never stalls the event loop that answers
federation. There are fewer of them than processors: a burst of logins or
sign-ups queues for them rather than taking every processor from the event
loop, which would then be too slow to finish the transactions that hold the
database's write lock.
"""

import asyncio
import functools
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.i18n.current import gettext as _

MIN_LENGTH = 10
MAX_LENGTH = 1024

_hasher = PasswordHasher()
_hashing = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 1) - 1), thread_name_prefix="argon2")


@functools.cache
def _decoy() -> str:
    """Checked against when the username is unknown, so that a wrong name costs as long as a wrong password.

    Made at the first unknown name rather than at import: every `mecene` command imports this
    module, and a hash costs a quarter of a second.
    """
    return _hasher.hash("not a password of anyone")


class PasswordError(ValueError):
    pass


def check_strength(password: str) -> None:
    """Length is the rule that matters (NIST SP 800-63B); composition rules only annoy.

    The refusal is in the language being spoken: the reader's on a page, English in the CLI.
    """
    if len(password) < MIN_LENGTH:
        raise PasswordError(_("Choose a password of at least %(least)s characters.") % {"least": MIN_LENGTH})
    if len(password) > MAX_LENGTH:
        raise PasswordError(_("A password is at most %(most)s characters.") % {"most": MAX_LENGTH})


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hashing, _hasher.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    verified = await asyncio.get_running_loop().run_in_executor(_hashing, _verify, stored or _decoy(), password)
    return verified and stored is not None


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
