"""The plain ActivityPub peer tests stand in for Mastodon with; it lives in `server.demo.plain_peer` so `mecene demo`
runs one too."""

from server.demo.plain_peer import AS_CONTEXT, AS_PUBLIC, NOTE_CONTEXT, PeerNote, PlainPeer, Received

__all__ = ["AS_CONTEXT", "AS_PUBLIC", "NOTE_CONTEXT", "PeerNote", "PlainPeer", "Received"]
