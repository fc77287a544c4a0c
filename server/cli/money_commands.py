"""The `mecene` commands of donors, creators and the operator's cash desk: tokens, wallets, budgets, things, flattrs,
link codes.

Each prints what it did and fails with a `CommandError` (exit status 1) and
nothing changed when the input is refused.
"""

from sqlalchemy import select

from config.settings import Settings
from server import things
from server.bot import codes
from server.cli.errors import CommandError
from server.cli.shared import opened
from server.donations import donor_view
from server.flattring import flattr_url
from server.instance import Instance
from server.models import User
from server.tokens import create_token
from server.topups import InvalidReference, UnknownAccount, top_up
from settlement import wallets
from settlement.money import Money, MoneyError, check_currency, format_amount, parse_amount


async def token_create(settings: Settings, name: str, label: str) -> int:
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        token = await create_token(session, await _user(instance, name), label, instance.clock())
    print(f"Token for {name} (shown once, keep it secret):\n{token}")
    return 0


async def wallet_topup(settings: Settings, name: str, amount: str, reference: str | None) -> int:
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        credit = _amount(amount, settings.instance.currency, allow_zero=False)
        try:
            done = await top_up(session, name, credit, reference or f"cli-{instance.clock():%Y%m%dT%H%M%S%f}",
                                instance.clock())
        except UnknownAccount:
            raise CommandError(f"no account {name!r} (see `mecene user list`)") from None
        except InvalidReference as exc:
            raise CommandError(str(exc)) from exc
    action = "Credited" if done.created else "Already credited (same reference), nothing changed:"
    print(f"{action} {format_amount(credit)} {credit.currency} to {name}; wallet now {format_amount(done.wallet)} "
          f"{done.wallet.currency} (reference {done.reference}).")
    return 0


async def wallet_show(settings: Settings, name: str) -> int:
    async with opened(settings) as instance, instance.sessions() as session:
        view = await donor_view(session, instance, await _user(instance, name), instance.current_period())
    print(f"wallet\t{format_amount(view.wallet)} {view.wallet.currency}")
    print(f"budget\t{format_amount(view.budget)} {view.budget.currency}")
    print(f"period\t{view.period.label}: {len(view.flattrs)} flattrs, {format_amount(view.spend)} to spend")
    for record in view.flattrs:
        print(f"flattr {record.id}\t{format_amount(view.value_of(record))} now\t{record.thing_uri}")
    return 0


async def budget_set(settings: Settings, name: str, amount: str) -> int:
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        user = await _user(instance, name)
        budget = _amount(amount, settings.instance.currency, allow_zero=True)
        await wallets.set_budget(session, user.username, budget, instance.clock())
    print(f"Monthly budget of {name}: {format_amount(budget)} {budget.currency}.")
    return 0


async def thing_add(settings: Settings, name: str, url: str | None, title: str, text: str) -> int:
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        thing = await things.create_thing(session, instance.urls, await _user(instance, name),
                                          things.ThingInput(url, title, text), instance.clock())
    print(f"Thing {thing.id}: {instance.urls.thing(thing.token)} (queued for {name}'s followers)")
    return 0


async def flattr(settings: Settings, name: str, url: str) -> int:
    async with opened(settings) as instance:
        record, created = await flattr_url(instance, await _user(instance, name), url)
    if created:
        print(f"Flattred {record.thing_uri} (period {record.period}, flattr {record.id}); the author is told "
              "by the running server.")
    else:
        print(f"Already flattred {record.thing_uri} in period {record.period} (flattr {record.id}); nothing changed.")
    return 0


async def link_code(settings: Settings, name: str) -> int:
    """A code to send the bot from a Mastodon account, as `POST /api/v1/links/codes` gives."""
    async with opened(settings) as instance, instance.sessions() as session, session.begin():
        user = await _user(instance, name)
        issued = await codes.issue_for_api(session, user.username, now=instance.clock(),
                                           minutes=settings.instance.link_code_minutes,
                                           bot_handle=f"@{settings.instance.bot_username}@{instance.urls.host}")
    print(f"Link code for {name}: {issued['code']} (valid until {issued['expires_at']}, once).\n{issued['how']}")
    return 0


async def _user(instance: Instance, name: str) -> User:
    async with instance.sessions() as session:
        user = await session.scalar(select(User).where(User.username == name))
    if user is None:
        raise CommandError(f"no account {name!r} (see `mecene user list`)")
    return user


def _amount(text: str, currency: str, *, allow_zero: bool) -> Money:
    try:
        money = parse_amount(text, currency, allow_zero=allow_zero)
        check_currency(money, currency)
    except MoneyError as exc:
        raise CommandError(str(exc)) from exc
    return money
