"""Typed keys for what the aiohttp application holds."""

from aiohttp import web

from server.instance import Instance
from server.payments.providers import Payments
from server.web.login_limits import LoginLimits

instance_key = web.AppKey("instance", Instance)
login_limits_key = web.AppKey("login_limits", LoginLimits)
payments_key = web.AppKey("payments", Payments)
