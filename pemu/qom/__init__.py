"""pemu object model: typed properties, realize/reset, a type registry."""
from pemu.qom.object import (
    Device,
    Object,
    Property,
    PropertyError,
    find_type,
    register_type,
    types_of_kind,
)

__all__ = [
    "Device",
    "Object",
    "Property",
    "PropertyError",
    "find_type",
    "register_type",
    "types_of_kind",
]
