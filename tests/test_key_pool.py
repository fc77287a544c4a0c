"""The keys accounts are made with: RSA-2048 in production, and distinct within a test that takes them from the pool."""

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from federation.httpsig import generate_private_key
from federation.models import LocalActor
from federation_harness import Federation
from server.accounts import create_user


def test_a_new_key_is_rsa_2048_with_the_usual_exponent_and_never_the_last_one() -> None:
    first, second = generate_private_key(), generate_private_key()
    assert isinstance(first, rsa.RSAPrivateKey) and first.key_size == 2048
    assert first.public_key().public_numbers().e == 65537
    assert first.private_numbers() != second.private_numbers()


async def test_every_account_of_every_instance_in_a_test_has_a_key_of_its_own(federation: Federation) -> None:
    nodes = [await federation.start(name) for name in ("a", "b")]
    for node in nodes:
        async with node.live.sessions() as session, session.begin():
            for name in ("alice", "bob", "carol"):
                await create_user(session, name, bot_username="flattr", now=node.live.clock())
    keys: list[str] = []
    for node in nodes:
        async with node.live.sessions() as session:
            keys += await session.scalars(select(LocalActor.public_key_pem))
    assert len(keys) >= 6 and len(set(keys)) == len(keys)
