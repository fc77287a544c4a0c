"""Changing a user's linked fediverse accounts: unlinking and auto-flattr of boosts, for the API and the pages.

Both tell the account's server (an `Undo{Follow}`, a `Follow`, a DM), queued
in the same transaction as the change, so the change and the message go
together or not at all.
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import FederationError
from server.bot import boosts, links, replies
from server.i18n.current import N_
from server.instance import Instance
from server.models import LinkedAccount
from server.refusal import Kind, Refusal
from server.storable import is_row_id


def bot_handle(instance: Instance) -> str:
    return f"@{instance.settings.instance.bot_username}@{instance.urls.host}"


async def unlink(instance: Instance, username: str, link_id: int) -> LinkedAccount:
    """Unlink and tell the account, so its owner is not left mentioning a bot that ignores them."""
    async with instance.sessions() as session, session.begin():
        row = await links.unlink_for_user(session, username=username, link_id=link_id) if is_row_id(link_id) else None
        if row is None:
            raise Refusal(Kind.NOT_FOUND, "not_found", N_("You have no linked account %(link_id)s."),
                                                       {"link_id": link_id})
        recipient = await replies.recipient(session, row.actor_uri)
        if recipient is not None:
            await boosts.stop_following(session, instance.urls, instance.settings.instance.bot_username,
                                        row.actor_uri, inbox=recipient.inbox, now=instance.clock())
            await replies.send(session, instance.urls, instance.settings.instance.bot_username, recipient,
                               replies.unlinked_here(f"{username}@{instance.urls.host}"), in_reply_to=None,
                               now=instance.clock())
    instance.delivery.wakeup.set()
    return row


async def owned(instance: Instance, username: str, link_id: int) -> LinkedAccount:
    async with instance.sessions() as session:
        return await _owned(session, username, link_id)


async def set_auto_flattr_boosts(instance: Instance, username: str, link_id: int, enabled: bool) -> LinkedAccount:
    """On: the bot follows the account (boosts reach followers only); off: it unfollows."""
    row = await owned(instance, username, link_id)
    inbox = await _inbox_of(instance, row.actor_uri)
    async with instance.sessions() as session, session.begin():
        row = await _owned(session, username, link_id)
        await boosts.set_auto_flattr(session, instance.urls, instance.settings.instance.bot_username, row,
                                     enabled=enabled, inbox=inbox, now=instance.clock())
    instance.delivery.wakeup.set()
    return row


async def _owned(session: AsyncSession, username: str, link_id: int) -> LinkedAccount:
    row = None if not is_row_id(link_id) else await session.scalar(select(LinkedAccount).where(
        LinkedAccount.id == link_id, LinkedAccount.username == username))
    if row is None:
        raise Refusal(Kind.NOT_FOUND, "not_found", N_("You have no linked account %(link_id)s."),
                                                   {"link_id": link_id})
    return row


async def _inbox_of(instance: Instance, actor_uri: str) -> str:
    """Fetched before the transaction: the account's server may be slow or down."""
    try:
        return (await instance.actors.actor(actor_uri)).inbox
    except FederationError as exc:
        raise Refusal(Kind.UPSTREAM, exc.code, N_("Could not reach %(actor_uri)s: %(safe_message)s"),
                                               {"actor_uri": actor_uri, "safe_message": exc.safe_message}) from exc
