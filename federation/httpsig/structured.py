"""Structured Field dictionaries (RFC 8941) as http_sf parses them, typed for what the parser returns."""

from typing import cast

import http_sf
from http_sf.types import BareItemType, ParamsType

Member = tuple[BareItemType, ParamsType] | tuple[list[http_sf.ItemType], ParamsType]
"""A parsed dictionary member: an item or an inner list, always paired with its parameters."""


def parse_dictionary(data: bytes) -> dict[str, Member]:
    """http_sf.parse is typed for every top-level type, and for the bare items only its serialiser takes;
    a dictionary it parses holds nothing but (value, parameters) pairs."""
    return cast(dict[str, Member], http_sf.parse(data, tltype="dictionary"))
