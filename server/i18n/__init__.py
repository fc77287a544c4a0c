"""The languages Mecene speaks: English and French, chosen per person.

`locales` picks a language (the account's setting, else the browser's
Accept-Language), `catalogues` holds the French translations read from the
gettext catalogue beside this package (`locale/fr/LC_MESSAGES/messages.po`,
kept up to date by `make messages`), `current` is the language of the request
being answered, and `formatting` writes and reads amounts and dates the way
that language does. The pages, the bot, the emails and the CLI import this
package; it imports nothing of Mecene but `settlement.money`.
"""
