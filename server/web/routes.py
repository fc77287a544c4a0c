"""Every page of the site, gathered for the app factory."""

from aiohttp import web

from server.web import (
    account_pages,
    admin_federation_pages,
    admin_money_pages,
    admin_pages,
    admin_peer_pages,
    admin_topup_pages,
    admin_withdrawal_pages,
    button_pages,
    claim_pages,
    flattr_pages,
    home_pages,
    languages,
    mail_pages,
    payout_pages,
    rendering,
    settings_pages,
    thing_pages,
    wallet_pages,
)


def setup(app: web.Application) -> None:
    languages.setup(app)
    rendering.setup(app)
    app.router.add_routes(home_pages.routes() + account_pages.routes())
    app.router.add_routes(button_pages.routes())
    app.router.add_routes(flattr_pages.routes() + settings_pages.routes() + claim_pages.routes())
    app.router.add_routes(admin_pages.routes() + admin_federation_pages.routes() + admin_money_pages.routes())
    app.router.add_routes(admin_peer_pages.routes())
    app.router.add_routes(wallet_pages.routes() + admin_topup_pages.routes())
    app.router.add_routes(payout_pages.routes() + admin_withdrawal_pages.routes())
    app.router.add_routes(thing_pages.routes())
    mail_pages.setup(app)
