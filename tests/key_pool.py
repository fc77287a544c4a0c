"""RSA keys for the accounts a test makes, made once per test process and handed out again in each test.

Making an RSA-2048 key costs about 40 ms and every account of every instance a
test starts makes one: a fifth of the suite's processor time went there. Within
one test each key handed out is a different key, so an account can no more sign
as another than in production; the next test is handed the same keys in the same
order, for instances that are not the same instances. Commands a test runs in
its own process (`cli_process.run_here`) take them from the pool too, from
their worker thread; processes it starts (`mecene serve`, a `mecene` command
run as a process) make their keys the real way, and
`federation.httpsig.generate_private_key` keeps its own test.
"""

import threading

from cryptography.hazmat.primitives.asymmetric import rsa

from federation.httpsig import generate_private_key


class KeyPool:
    """Keys in the order a test asks for them; the pool grows to the most keys one test has needed."""

    def __init__(self) -> None:
        self._keys: list[rsa.RSAPrivateKey] = []
        self._handed_out = 0
        self._lock = threading.Lock()

    def new_test(self) -> None:
        self._handed_out = 0

    def take(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._handed_out == len(self._keys):
                self._keys.append(generate_private_key())
            key = self._keys[self._handed_out]
            self._handed_out += 1
            return key


KEYS = KeyPool()
