"""Who is calling: a personal access token in `Authorization: Bearer`."""

from aiohttp import web

from server.appkeys import instance_key
from server.models import User
from server.refusal import Kind, Refusal
from server.tokens import user_for_token


async def current_user(request: web.Request) -> User:
    """The token's owner; 401 without a valid token, so clients know to ask for one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal(Kind.UNAUTHENTICATED, "unauthorized",
                      "Send a personal access token as `Authorization: Bearer <token>`.")
    instance = request.app[instance_key]
    async with instance.sessions() as session, session.begin():
        user = await user_for_token(session, token.strip(), instance.clock())
    if user is None:
        raise Refusal(Kind.UNAUTHENTICATED, "unauthorized", "That access token is unknown or was revoked.")
    return user


async def current_admin(request: web.Request) -> User:
    user = await current_user(request)
    if not user.is_admin:
        raise Refusal(Kind.FORBIDDEN, "forbidden", "Only the instance's administrators may do that.")
    return user
