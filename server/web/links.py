"""Addresses that came from outside, shown as links only when a browser would open them as web pages.

Thing URIs, actor URIs, a Flattr button's target and the like arrive from
other servers and from visitors. Put in an `href` as they are, a
`javascript:` or `data:` address runs in the page of whoever clicks it, and
browsers forgive a lot when they read a scheme: they strip leading and
trailing C0 controls and spaces, drop tabs and newlines anywhere, and ignore
case, so ` JavaScript:` and `java\\tscript:` are the same danger. `web_url`
reads an address the way a browser does and keeps it only when it is http or
https with a host; templates show everything else as plain text through the
`external_link` filter. The API gives such addresses unverified and tells
its clients to apply the same rule (`server/api/representations.py`).
"""

import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape

WEB_SCHEMES = ("http", "https")
_EDGES = "".join(chr(code) for code in range(0x21))
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def web_url(value: object) -> str | None:
    """The address as a browser would follow it, when that is an http(s) page with a host; otherwise None."""
    if not isinstance(value, str):
        return None
    address = _TAB_OR_NEWLINE.sub("", value.strip(_EDGES))
    scheme = _SCHEME.match(address)
    if scheme is None or scheme.group(1).lower() not in WEB_SCHEMES:
        return None
    address = scheme.group(1).lower() + address[scheme.end(1):]
    try:
        host = urlsplit(address).hostname
    except ValueError:
        return None
    return address if host else None


def external_link(value: object, text: object = None, rel: str | None = None) -> Markup:
    """A link to `value` reading `text` (the address itself by default), or just the text when it is no web page."""
    shown = escape(value if text is None else text)
    target = web_url(value)
    if target is None:
        return shown
    if rel is None:
        return Markup('<a href="{}">{}</a>').format(target, shown)
    return Markup('<a href="{}" rel="{}">{}</a>').format(target, rel, shown)
