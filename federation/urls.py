"""Where this instance serves each actor and collection.

One place decides the URL layout so that actor documents, WebFinger and the
router can never disagree.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class InstanceUrls:
    base_url: str  # "https://example.org", no trailing slash

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def shared_inbox(self) -> str:
        return f"{self.base_url}/inbox"

    def actor(self, username: str) -> str:
        return f"{self.base_url}/users/{username}"

    def key_id(self, username: str) -> str:
        return f"{self.actor(username)}#main-key"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def activity(self, token: str) -> str:
        return f"{self.base_url}/activities/{token}"

    def thing(self, token: str) -> str:
        return f"{self.base_url}/things/{token}"

    def thing_token_of(self, uri: str) -> str | None:
        """The token of a local thing's object id, or None when it is not one of ours."""
        prefix = f"{self.base_url}/things/"
        rest = uri[len(prefix):] if uri.startswith(prefix) else ""
        return rest if rest and "/" not in rest and "#" not in rest and "?" not in rest else None

    def username_of(self, uri: str) -> str | None:
        """The local username an actor URI names, or None when it is not one of ours."""
        prefix = f"{self.base_url}/users/"
        if not uri.startswith(prefix):
            return None
        rest = uri[len(prefix):]
        return rest if rest and "/" not in rest and "#" not in rest else None

    def is_local(self, uri: str) -> bool:
        return urlsplit(uri).netloc == self.host
