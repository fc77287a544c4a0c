"""A Mastodon-shaped peer: what Mastodon sends when its users talk to a bot, signed as Mastodon signs.

Built on `PlainPeer` (actors, notes, signature checks, the record of what
arrives) and, like it, written out by hand from Mastodon's own documents
(`tests/fixtures/mastodon/create-note-direct.json`,
`create-note-reply-unlisted.json`, `accept-follow.json`, `announce.json`), never with `federation.vocab`. A direct
message is addressed to the mentioned accounts only; a reply is unlisted
(followers in `to`, Public and the mentioned in `cc`) or public, and goes
to the shared inbox as Mastodon sends mentions of remote accounts.
"""

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from plain_peer import AS_CONTEXT, AS_PUBLIC, NOTE_CONTEXT, PlainPeer


@dataclass(frozen=True)
class Account:
    """Someone to mention: their actor id, the profile URL Mastodon links to, and @name@host."""

    actor: str
    inbox: str
    shared_inbox: str

    @property
    def handle(self) -> str:
        host = self.actor.split("/")[2]
        return f"@{self.actor.rstrip('/').rsplit('/', 1)[-1]}@{host}"


def mecene_bot(base_url: str, username: str = "flattr") -> Account:
    actor = f"{base_url}/users/{username}"
    return Account(actor, f"{actor}/inbox", f"{base_url}/inbox")


class MastodonPeer(PlainPeer):
    async def direct_message(self, name: str, to: Account, text: str, *, actor: str | None = None,
                             in_reply_to: str | None = None, language: str = "en") -> int:
        """A private mention of `to`, delivered to their own inbox; `actor` forges the claimed sender."""
        activity = self._create(name, to, text, audience=([to.actor], []), in_reply_to=in_reply_to,
                                language=language)
        if actor is not None:
            activity["actor"] = activity["object"]["attributedTo"] = actor
        return await self.deliver(name, to.inbox, activity)

    async def reply(self, name: str, to: Account, in_reply_to: str, text: str = "", *,
                    visibility: str = "unlisted") -> int:
        """A reply to any post with a mention of `to`, as Mastodon sends it to the shared inbox."""
        followers = f"{self.actor_uri(name)}/followers"
        audience = ([followers], [AS_PUBLIC, to.actor]) if visibility == "unlisted" else (
            [AS_PUBLIC], [followers, to.actor])
        activity = self._create(name, to, text, audience=audience, in_reply_to=in_reply_to)
        return await self.deliver(name, to.shared_inbox, activity)

    async def accept_follows(self, name: str) -> int:
        """Accept every Follow of `name` received so far, as Mastodon does for an unlocked account; how many."""
        actor = self.actor_uri(name)
        follows = [r.activity for r in self.received
                   if r.verified and r.activity.get("type") == "Follow" and r.activity.get("object") == actor]
        for n, follow in enumerate(follows):
            accept = {"@context": AS_CONTEXT, "id": f"{actor}#accepts/follows/{n}", "type": "Accept", "actor": actor,
                      "object": {"id": follow["id"], "type": "Follow", "actor": follow["actor"], "object": actor}}
            await self.deliver(name, f"{follow['actor']}/inbox", accept)
        return len(follows)

    async def boost(self, name: str, post: str, to: Account, *, public: bool = True) -> int:
        """`name` boosts `post` (an ActivityPub id), delivered to a follower's shared inbox; False: followers only."""
        actor, n = self.actor_uri(name), next(self._ids)
        author = post.split("/statuses/")[0]
        audience = {"to": [AS_PUBLIC], "cc": [author, f"{actor}/followers"]} if public else {
            "to": [f"{actor}/followers"], "cc": [author]}
        announce = {"@context": AS_CONTEXT, "id": f"{actor}/statuses/{n}/activity", "type": "Announce",
                    "actor": actor, "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **audience,
                    "object": post}
        return await self.deliver(name, to.shared_inbox, announce)

    def direct_messages(self, name: str) -> list[dict[str, Any]]:
        """The Notes of the verified `Create`s that reached `name`'s inbox, in arrival order."""
        return [r.activity["object"] for r in self.received
                if r.verified and r.inbox == f"/users/{name}/inbox" and r.activity.get("type") == "Create"]

    def _create(self, name: str, to: Account, text: str, *, audience: tuple[list[str], list[str]],
                in_reply_to: str | None, language: str = "en") -> dict[str, Any]:
        n = next(self._ids)
        actor = self.actor_uri(name)
        note_id, published = f"{actor}/statuses/{n}", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        username = to.handle.split("@")[1]
        content = (f'<p><span class="h-card" translate="no"><a href="{html.escape(to.actor)}" class="u-url mention">'
                   f"@<span>{html.escape(username)}</span></a></span> {_linkify(text)}</p>")
        to_list, cc_list = audience
        note = {
            "id": note_id, "type": "Note", "summary": None, "inReplyTo": in_reply_to, "published": published,
            "url": f"{self.base_url}/@{name}/{n}", "attributedTo": actor, "to": to_list, "cc": cc_list,
            "sensitive": False, "atomUri": note_id, "inReplyToAtomUri": in_reply_to,
            "conversation": f"tag:{self.host},2026-01-01:objectId={n}:objectType=Conversation",
            "content": content, "contentMap": {language: content}, "attachment": [],
            "tag": [{"type": "Mention", "href": to.actor, "name": to.handle}],
        }
        return {"@context": NOTE_CONTEXT, "id": f"{note_id}/activity", "type": "Create", "actor": actor,
                "published": published, "to": to_list, "cc": cc_list, "object": note}


def _linkify(text: str) -> str:
    """Mastodon's rendering of a URL: a link whose text hides the scheme in an invisible span."""
    words = []
    for word in text.split(" "):
        if word.startswith(("http://", "https://")):
            scheme, _, rest = word.partition("://")
            words.append(f'<a href="{html.escape(word)}" target="_blank" rel="nofollow noopener" translate="no">'
                         f'<span class="invisible">{scheme}://</span><span class="">{html.escape(rest)}</span></a>')
        else:
            words.append(html.escape(word))
    return " ".join(words)
