"""ActivityPub federation for Mecene: protocol only, nothing about money.

Signatures, the SSRF-safe client, actors and keys, the inbox and its
processor, the outbox and delivery queue, discovery documents and the
`Flattr` and `Payout` vocabularies. Imports only `common`; only `server`
imports it.
"""
