"""Headers every answer carries, so that a script planted in a page cannot run and no site can frame one.

The pages run no script of their own and use no inline style, so the
Content-Security-Policy allows nothing but this site's stylesheet and images:
an injected `<script>`, `on*=` attribute or `javascript:` link is blocked even
if a template let one through. `frame-ancestors 'none'` and `X-Frame-Options:
DENY` (for browsers that predate it) stop clickjacking of the money forms. The
Flattr button is no exception: other sites link to its page, which opens as a
page of its own, and embed only its image and `button.js`, which these
headers do not restrict (`docs/flattr-button.md`). `form-action` is left out
on purpose: the Flattr button's form ends in a redirect to the donor's own
instance, which that directive would block. `Referrer-Policy: same-origin`
keeps the address of a page (a thing being flattred, a `next=`) from other
sites; `nosniff` makes browsers trust the declared type of every answer.
"""

from aiohttp import web

CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
                           "frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Run as the answer is prepared, so static files, redirects and refusals get them as well as pages."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)


def setup(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)
