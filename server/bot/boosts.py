"""Auto-flattr of boosts: the bot follows a linked account whose user opted in, and flattrs what it boosts.

Mastodon delivers a boost (`Announce`) only to the booster's followers, so
the opt-in is a Follow from the bot and the opt-out its Undo. Both are queued
in the caller's transaction, from the bot actor, to the account's inbox.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation import follows
from federation.urls import InstanceUrls
from server.models import LinkedAccount


async def set_auto_flattr(session: AsyncSession, urls: InstanceUrls, bot_username: str, account: LinkedAccount, *,
                          enabled: bool, inbox: str, now: datetime) -> None:
    account.auto_flattr_boosts = enabled
    if enabled:
        await follows.follow(session, urls, username=bot_username, target_uri=account.actor_uri, target_inbox=inbox,
                             now=now)
    else:
        await stop_following(session, urls, bot_username, account.actor_uri, inbox=inbox, now=now)


async def stop_following(session: AsyncSession, urls: InstanceUrls, bot_username: str, actor_uri: str, *, inbox: str,
                         now: datetime) -> None:
    """Also on unlink: boosts of an account that no longer flattrs for anyone here are no business of the bot."""
    await follows.unfollow(session, urls, username=bot_username, target_uri=actor_uri, target_inbox=inbox, now=now)
