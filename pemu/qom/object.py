"""The object model, in the spirit of QEMU's QOM but in plain Python.

Every machine part (board, CPU, device) is an `Object` subclass that declares
its configurable properties once, as class attributes of type `Property`.
`-device help`, `-machine help` and `-cpu help` list the registry; `-device
NAME,help` lists a type's properties with their documentation.

Life cycle: construct with properties (validated and converted from strings
when they come from the command line), `realize()` once wiring is done,
`reset()` on every machine reset.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar


class PropertyError(ValueError):
    """A property value that does not fit its declaration."""


def _parse_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).lower()
    if s in ("on", "yes", "true", "1", "y"):
        return True
    if s in ("off", "no", "false", "0", "n"):
        return False
    raise PropertyError(f"'{v}' is not a valid boolean (use on/off)")


_SIZE_SUFFIX = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(v: Any, default_suffix: str = "") -> int:
    """Parse a QEMU size ('512M', '1G', '4096'); raises PropertyError."""
    if isinstance(v, int):
        return v
    s = str(v).strip()
    num = s.rstrip("bBkKmMgGtT")
    suffix = s[len(num):].lower() or default_suffix.lower()
    try:
        value = float(num) if "." in num else int(num, 0)
    except ValueError:
        raise PropertyError(f"'{v}' is not a valid size") from None
    if suffix not in _SIZE_SUFFIX or value < 0:
        raise PropertyError(f"'{v}' is not a valid size")
    return int(value * _SIZE_SUFFIX[suffix])


_CONVERT: dict[type, Callable[[Any], Any]] = {
    bool: _parse_bool,
    int: lambda v: v if isinstance(v, int) else int(str(v), 0),
    str: str,
}


@dataclass
class Property:
    """One typed, documented property of an Object class."""

    type: type
    default: Any = None
    doc: str = ""
    name: str = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name.replace("_", "-")
        self.attr = "_p_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj, self.attr, self.default)

    def __set__(self, obj: Any, value: Any) -> None:
        if value is not None and not isinstance(value, self.type):
            try:
                value = _CONVERT.get(self.type, self.type)(value)
            except (ValueError, TypeError) as e:
                raise PropertyError(
                    f"Property '{type(obj).type_name}.{self.name}' doesn't take value '{value}'"
                    + (f": {e}" if str(e) else "")
                ) from None
        setattr(obj, self.attr, value)


_REGISTRY: dict[str, type[Object]] = {}


def register_type(cls: type[Object]) -> type[Object]:
    """Class decorator: make a type visible to -device/-machine/-cpu help."""
    _REGISTRY[cls.type_name] = cls
    return cls


def find_type(name: str, kind: str | None = None) -> type[Object] | None:
    cls = _REGISTRY.get(name)
    if cls is None:
        for c in _REGISTRY.values():
            if name in c.aliases:
                cls = c
                break
    if cls is not None and kind is not None and cls.kind != kind:
        return None
    return cls


def types_of_kind(kind: str) -> list[type[Object]]:
    return sorted((c for c in _REGISTRY.values() if c.kind == kind), key=lambda c: c.type_name)


class Object:
    """Base of everything with properties."""

    type_name: ClassVar[str] = "object"
    kind: ClassVar[str] = "object"  # "machine", "device", "cpu", "accel", ...
    description: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **props: Any) -> None:
        self.id: str | None = props.pop("id", None)
        known = self.properties()
        for key, value in props.items():
            p = known.get(key.replace("_", "-"))
            if p is None:
                raise PropertyError(f"Property '{self.type_name}.{key}' not found")
            p.__set__(self, value)

    @classmethod
    def properties(cls) -> dict[str, Property]:
        out: dict[str, Property] = {}
        for klass in reversed(cls.__mro__):
            for v in vars(klass).values():
                if isinstance(v, Property):
                    out[v.name] = v
        return out

    @classmethod
    def help_text(cls) -> str:
        lines = [f"{cls.type_name} options:"]
        for name, p in sorted(cls.properties().items()):
            default = "" if p.default is None else f" (default: {p.default})"
            lines.append(f"  {name}=<{p.type.__name__}>{' - ' + p.doc if p.doc else ''}{default}")
        return "\n".join(lines)


class Device(Object):
    """A device: realized once, reset on every machine reset.

    Devices never import boards or other devices; they see the machine only
    through their properties, IRQ lines, memory regions and backends.
    """

    kind = "device"
    user_creatable: ClassVar[bool] = False
    #: Migratable state: attribute names and a version (serialised by migration/).
    vmstate_fields: ClassVar[tuple[str, ...]] = ()
    vmstate_version: ClassVar[int] = 1

    def realize(self) -> None:
        """Finish construction once properties and wiring are set."""

    def reset(self) -> None:
        """Return to power-on state."""

    def vmstate(self) -> dict[str, Any]:
        return {"version": self.vmstate_version,
                "fields": {f: getattr(self, f) for f in self.vmstate_fields}}
