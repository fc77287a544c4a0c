"""The address a request came from, as the per-address limits of logins and sign-ups count it.

Behind the reverse proxy `docs/operating.md` describes, every connection
comes from the proxy, so counting by the connection's address would make
one count of the whole world: one guesser could lock everyone out, and a
handful of sign-ups would close registrations. From the proxy named in
`server.trusted_proxy`, the client is the last address of `X-Forwarded-For`,
the one the proxy appended itself; earlier entries are whatever the client
sent and are never believed. From anyone else the header is ignored.
"""

import ipaddress

from aiohttp import web

from server.appkeys import instance_key


def client_address(request: web.Request) -> str:
    peer = request.remote or ""
    proxy = request.app[instance_key].settings.server.trusted_proxy
    if not proxy or peer != proxy:
        return peer
    forwarded = request.headers.getall("X-Forwarded-For", [])
    last = ",".join(forwarded).split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return peer
