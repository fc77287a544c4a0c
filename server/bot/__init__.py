"""The bot actor Mastodon users talk to: linking an account by code, flattring by mention or by DM.

Its inbox handlers are wired by `server.wiring`; its task worker is started by
`server.app`; the settlement tick imports its escrow notices, and the API and
pages its codes and links.
"""
