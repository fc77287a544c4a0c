"""Where the authors of settlement tests live: here.example is this instance, mecene.example another
Mecene instance, and every other host a server without Mecene."""

from settlement.destinations import ESCROW, LOCAL, PAYOUT, Destination


def classify(author: str) -> Destination:
    host = author.split("/")[2]
    if host == "here.example":
        return Destination(LOCAL, host, author.rsplit("/", 1)[1])
    if host == "mecene.example":
        return Destination(PAYOUT, host, host)
    return Destination(ESCROW, host, author)
