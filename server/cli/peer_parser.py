"""The arguments of `mecene peers propose|accept|decline|end|list`; `peer_commands` runs them, imported only then."""

from argparse import Namespace
from collections.abc import Coroutine
from typing import Any

from server.cli.paths import settings_of


def add_peer_commands(sub: Any) -> None:
    peers = sub.add_parser("peers", help="agreements with other Mecene instances").add_subparsers(
        dest="action", required=True)
    propose = peers.add_parser("propose", help="offer another Mecene instance an agreement on your terms")
    _terms_arguments(propose)
    propose.set_defaults(run=_propose)
    accept = peers.add_parser("accept", help="accept the agreement another instance offered, on your terms")
    _terms_arguments(accept)
    accept.set_defaults(run=_accept)
    decline = peers.add_parser("decline", help="decline the agreement another instance offered")
    host_arguments(decline)
    decline.set_defaults(run=_decline)
    end = peers.add_parser("end", help="end an agreement (no new payouts; what is owed stays owed), or withdraw "
                                       "your proposal")
    host_arguments(end)
    end.set_defaults(run=_end)
    peers.add_parser("list", help="every agreement, its state and both sides' terms").set_defaults(run=_list)


def host_arguments(parser: Any) -> None:
    """A peer and one currency between us: what `peers` and `clearing` commands act on."""
    parser.add_argument("host", help="the other instance: example.org, or example.org:8443")
    parser.add_argument("--currency", help="ISO 4217 code (default: this instance's currency)")


def _terms_arguments(parser: Any) -> None:
    host_arguments(parser)
    parser.add_argument("--credit-limit", required=True, metavar="AMOUNT",
                        help='the most the other instance may owe you, e.g. "500.00" (0: nothing)')
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--iban", help="the IBAN the other instance pays you at (with --holder)")
    where.add_argument("--instructions", help="how the other instance pays you, when not to an IBAN")
    parser.add_argument("--holder", help="the name of the IBAN's account holder")


def _propose(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.peer_commands import propose_agreement
    return propose_agreement(settings_of(args), args)


def _accept(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.peer_commands import accept_agreement
    return accept_agreement(settings_of(args), args)


def _decline(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.peer_commands import decline_agreement
    return decline_agreement(settings_of(args), args.host, args.currency)


def _end(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.peer_commands import end_agreement
    return end_agreement(settings_of(args), args.host, args.currency)


def _list(args: Namespace) -> Coroutine[Any, Any, int]:
    from server.cli.peer_commands import list_agreements
    return list_agreements(settings_of(args))
