"""The JSON API under /api/v1: thin handlers over the shared services, refusals as JSON.

Imported only by `server.app`, which mounts `routes`.
"""
