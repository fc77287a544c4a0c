"""Email: the persistent outbox, its SMTP sender, the messages' templates, and the links sent by email.

An email is a row of `mail_outbox` written in the transaction of the event it
tells of (`outbox.py`), so it is never lost and, keyed by that event, never
queued twice; `sender.py` sends the rows with aiosmtplib under a lease, like
the delivery queue. Services, pages and the money hooks of `server/` import
`outbox` and `notices`; the app starts the sender; nothing outside `server/`
imports this package.
"""
