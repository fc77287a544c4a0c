"""Typed keys for what the aiohttp application holds."""

from aiohttp import web

from server.instance import Instance

instance_key = web.AppKey("instance", Instance)
