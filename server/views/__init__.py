"""HTTP handlers for the fediverse, thin: actors, inboxes, objects, WebFinger and NodeInfo.

Imported only by `server.app`.
"""
