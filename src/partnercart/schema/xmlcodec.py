"""XML in the DataContract style, driven by the same msgspec models as JSON.

The shape is what ASP.NET Web API's ``DataContractSerializer`` would write for the Partner Center
types (see ``docs/wire-format.md``): the root element is the type's contract name, every type's
members live in ``http://schemas.datacontract.org/2004/07/<CLR namespace>``, members are
PascalCase elements in ordinal order, lists wrap one element per item, dictionaries are
``KeyValueOf...`` items, ``null`` is ``i:nil="true"`` and untyped values carry ``i:type``.

Nothing here is written per resource: an encoder and a decoder are compiled once per root type
from :func:`msgspec.inspect.type_info`. Decoding yields the same untyped document that JSON
gives, which then goes through :func:`partnercart.schema.codec.convert`, so casing and enum
leniency and the error paths are shared with JSON.

Parsing goes through :mod:`partnercart.schema.xmlsafe` (``defusedxml``, no DTDs, limits); the
contract names and namespaces are in :mod:`partnercart.schema.contracts`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar
from xml.etree.ElementTree import Element

import msgspec
import msgspec.inspect as mi

from partnercart.schema.codec import CodecError, convert
from partnercart.schema.contracts import ARRAYS, CONTRACTS, Contract, contract_of
from partnercart.schema.xmlsafe import MAX_DEPTH, MAX_ELEMENTS, parse_tree

T = TypeVar("T")

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"


class XmlEncodeError(ValueError):
    """A value XML 1.0 cannot carry (a control character, a lone surrogate)."""


# --- text -----------------------------------------------------------------------------------

_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_NEEDS_ESCAPE = re.compile("[&<>\r]")


def unrepresentable(text: str) -> bool:
    """Whether ``text`` holds a character XML 1.0 cannot carry."""
    return _ILLEGAL.search(text) is not None


def escape_text(text: str) -> str:
    """Element content, with ``\\r`` kept as a character reference so it survives parsing."""
    bad = _ILLEGAL.search(text)
    if bad:
        raise XmlEncodeError(
            f"The character U+{ord(bad.group()):04X} cannot be represented in XML 1.0."
        )
    return _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group()], text)


def pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _is_nil(element: Element) -> bool:
    return element.get(f"{{{XSI}}}nil", "").strip().lower() in ("true", "1")


def _text(element: Element) -> str:
    return element.text or ""


def _shown(text: str) -> str:
    """Input echoed in an error message, cut short."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


# --- compiled nodes -------------------------------------------------------------------------

Writer = list[str]


class _Node:
    """How one type is written and read. ``xsd`` names it inside collection contracts."""

    xsd = "anyType"

    def namespaces(self, seen: set[int], out: list[str]) -> None:
        """The namespaces this type's content may use (for the root's declarations)."""

    def write(self, value: Any, out: Writer, prefixes: dict[str, str]) -> None:
        """Write the content (not the element itself) of ``value``."""
        raise NotImplementedError

    def read(self, element: Element, path: str) -> Any:
        raise NotImplementedError

    def attributes(self, value: Any, prefixes: dict[str, str]) -> str:
        return ""


class _Text(_Node):
    xsd = "string"

    def write(self, value: Any, out: Writer, prefixes: dict[str, str]) -> None:
        out.append(escape_text(str(value)))

    def read(self, element: Element, path: str) -> Any:
        if len(element):
            raise CodecError(
                f"Invalid request body at {path}: expected text, found child elements.",
                path=path,
            )
        return _text(element)


_INTEGER = re.compile(r"[+-]?[0-9]{1,4000}")
_DOUBLE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,4})?")


class _Enum(_Text):
    def read(self, element: Element, path: str) -> Any:
        text = super().read(element, path).strip()
        return int(text) if re.fullmatch("[0-9]{1,9}", text) else text


class _Int(_Text):
    xsd = "long"

    def read(self, element: Element, path: str) -> Any:
        text = super().read(element, path).strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        raise CodecError(
            f"Invalid request body at {path}: expected an integer, got {_shown(text)}.",
            path=path,
        )


class _Float(_Text):
    xsd = "double"

    def write(self, value: Any, out: Writer, prefixes: dict[str, str]) -> None:
        out.append(repr(float(value)) if isinstance(value, float) else str(value))

    def read(self, element: Element, path: str) -> Any:
        text = super().read(element, path).strip()
        number = float(text) if _DOUBLE.fullmatch(text) else math.nan
        if not math.isfinite(number):
            raise CodecError(
                f"Invalid request body at {path}: expected a finite number, got {_shown(text)}.",
                path=path,
            )
        return number


class _Bool(_Text):
    xsd = "boolean"

    def write(self, value: Any, out: Writer, prefixes: dict[str, str]) -> None:
        out.append("true" if value else "false")

    def read(self, element: Element, path: str) -> Any:
        text = super().read(element, path).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise CodecError(
            f"Invalid request body at {path}: expected true or false, got {_shown(text)}.",
            path=path,
        )


_ANY_TYPES = {
    "string": "string",
    "anyURI": "string",
    "dateTime": "string",
    "guid": "string",
    "duration": "string",
    "boolean": "boolean",
    "double": "double",
    "float": "double",
    "decimal": "double",
    "long": "long",
    "int": "long",
    "short": "long",
    "byte": "long",
    "unsignedLong": "long",
    "unsignedInt": "long",
    "unsignedShort": "long",
    "unsignedByte": "long",
}


class _Any(_Node):
    """An untyped value: its XSD type (or collection contract) travels in ``i:type``."""

    def namespaces(self, seen: set[int], out: list[str]) -> None:
        for ns in (XSD, ARRAYS):
            if ns not in out:
                out.append(ns)

    def attributes(self, value: Any, prefixes: dict[str, str]) -> str:
        if isinstance(value, bool):
            kind = f"{prefixes[XSD]}:boolean"
        elif isinstance(value, int):
            kind = f"{prefixes[XSD]}:long"
        elif isinstance(value, float):
            kind = f"{prefixes[XSD]}:double"
        elif isinstance(value, str):
            kind = f"{prefixes[XSD]}:string"
        elif isinstance(value, dict):
            kind = f"{prefixes[ARRAYS]}:ArrayOfKeyValueOfstringanyType"
        elif isinstance(value, list | tuple):
            kind = f"{prefixes[ARRAYS]}:ArrayOfanyType"
        else:
            raise XmlEncodeError(f"A value of type {type(value).__name__} has no XML form.")
        return f' i:type="{kind}"'

    def write(self, value: Any, out: Writer, prefixes: dict[str, str]) -> None:
        if isinstance(value, bool):
            _BOOL.write(value, out, prefixes)
        elif isinstance(value, int | str):
            _TEXT.write(value, out, prefixes)
        elif isinstance(value, float):
            _FLOAT.write(value, out, prefixes)
        elif isinstance(value, dict):
            _ANY_DICT.write(value, out, prefixes)
        elif isinstance(value, list | tuple):
            _ANY_LIST.write(value, out, prefixes)
        else:
            raise XmlEncodeError(f"A value of type {type(value).__name__} has no XML form.")

    def read(self, element: Element, path: str) -> Any:
        declared = element.get(f"{{{XSI}}}type")
        kind = declared.rpartition(":")[2] if declared else None
        if kind is None:
            if not len(element):
                return _text(element)
            if all(_local(c.tag).startswith("KeyValueOf") for c in element):
                return _ANY_DICT.read(element, path)
            return _ANY_LIST.read(element, path)
        if kind.startswith("ArrayOfKeyValueOf"):
            return _ANY_DICT.read(element, path)
        if kind.startswith("ArrayOf"):
            return _ANY_LIST.read(element, path)
        scalar = _ANY_TYPES.get(kind)
        if scalar == "boolean":
            return _BOOL.read(element, path)
        if scalar == "long":
            return _INT.read(element, path)
        if scalar == "double":
            return _FLOAT.read(element, path)
        return _TEXT.read(element, path)


def _tag(ns: str, name: str, prefixes: dict[str, str]) -> str:
    prefix = prefixes[ns]
    return f"{prefix}:{name}" if prefix else name


def _write_element(
    node: _Node, tag: str, value: Any, out: Writer, prefixes: dict[str, str]
) -> None:
    if value is None:
        out.append(f'<{tag} i:nil="true"/>')
        return
    attributes = node.attributes(value, prefixes)
    out.append(f"<{tag}{attributes}>")
    start = len(out)
    node.write(value, out, prefixes)
    if len(out) == start:  # an empty list, dictionary or object
        out[-1] = f"<{tag}{attributes}/>"
    else:
        out.append(f"</{tag}>")


class _List(_Node):
    def __init__(self, item: _Node, item_name: str, item_ns: str) -> None:
        self.item = item
        self.item_name = item_name
        self.item_ns = item_ns

    def namespaces(self, seen: set[int], out: list[str]) -> None:
        if self.item_ns not in out:
            out.append(self.item_ns)
        self.item.namespaces(seen, out)

    def write(self, value: Any, out: Writer, prefixes: dict[str, str]) -> None:
        if not isinstance(value, list | tuple):
            raise XmlEncodeError(f"Expected a list, got {type(value).__name__}.")
        tag = _tag(self.item_ns, self.item_name, prefixes)
        for item in value:
            _write_element(self.item, tag, item, out, prefixes)

    def read(self, element: Element, path: str) -> Any:
        if not len(element) and _text(element).strip():
            return _text(element)  # convert() names the path: "Expected `array`"
        return [
            None if _is_nil(child) else self.item.read(child, f"{path}[{i}]")
            for i, child in enumerate(element)
        ]


class _Dict(_Node):
    """``Dictionary<string, V>``: ``KeyValueOfstringV`` items with ``Key`` and ``Value``.

    Read leniently: an element that is not such an item is an entry named by its element name
    (``<ProvisioningContext><scope>shared</scope></ProvisioningContext>``)."""

    @staticmethod
    def _is_item(child: Element) -> bool:
        if _local(child.tag).lower().startswith("keyvalueof"):
            return True
        names = {_local(part.tag).lower() for part in child}
        return "key" in names and names <= {"key", "value"}

    def __init__(self, value: _Node) -> None:
        self.value = value
        self.item_name = f"KeyValueOfstring{value.xsd}"

    def namespaces(self, seen: set[int], out: list[str]) -> None:
        if ARRAYS not in out:
            out.append(ARRAYS)
        self.value.namespaces(seen, out)

    def write(self, value: Any, out: Writer, prefixes: dict[str, str]) -> None:
        if not isinstance(value, dict):
            raise XmlEncodeError(f"Expected a dictionary, got {type(value).__name__}.")
        p = prefixes[ARRAYS]
        for key, item in value.items():
            out.append(f"<{p}:{self.item_name}><{p}:Key>{escape_text(str(key))}</{p}:Key>")
            _write_element(self.value, f"{p}:Value", item, out, prefixes)
            out.append(f"</{p}:{self.item_name}>")

    def read(self, element: Element, path: str) -> Any:
        if not len(element) and _text(element).strip():
            return _text(element)
        result: dict[str, Any] = {}
        for child in element:
            key: str | None = None
            value_element: Element | None = None
            if not self._is_item(child):
                # The plain form a generic XML writer produces: <subscriptionId>…</…>.
                key, value_element = _local(child.tag), child
            for part in child if value_element is None else ():
                name = _local(part.tag).lower()
                if name == "key":
                    key = _text(part)
                elif name == "value":
                    value_element = part
            if key is None:
                raise CodecError(
                    f"Invalid request body at {path}: a dictionary item has no <Key>.", path=path
                )
            item_path = f"{path}.{key}"
            if value_element is None or _is_nil(value_element):
                result[key] = None
            else:
                result[key] = self.value.read(value_element, item_path)
        return result


class _Struct(_Node):
    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.contract = contract_of(cls)
        self.xsd = self.contract.name
        # (encode name, element name, node), in ordinal order of element names
        self.fields: list[tuple[str, str, _Node]] = []
        self.by_lower: dict[str, tuple[str, _Node]] = {}

    def namespaces(self, seen: set[int], out: list[str]) -> None:
        if id(self) in seen:
            return
        seen.add(id(self))
        if self.contract.namespace not in out:
            out.append(self.contract.namespace)
        for _, _, node in self.fields:
            node.namespaces(seen, out)

    def write(self, value: Any, out: Writer, prefixes: dict[str, str]) -> None:
        if not isinstance(value, dict):
            raise XmlEncodeError(f"Expected an object for {self.contract.name}.")
        ns = self.contract.namespace
        for key, element_name, node in self.fields:
            if key in value:
                _write_element(node, _tag(ns, element_name, prefixes), value[key], out, prefixes)

    def read(self, element: Element, path: str) -> Any:
        if not len(element) and _text(element).strip():
            return _text(element)  # convert() names the path: "Expected `object`"
        document: dict[str, Any] = {}
        for child in element:
            entry = self.by_lower.get(_local(child.tag).lower())
            if entry is None:
                continue  # unknown members are ignored, as in JSON
            key, node = entry
            document[key] = None if _is_nil(child) else node.read(child, f"{path}.{key}")
        return document


_TEXT = _Text()
_INT = _Int()
_FLOAT = _Float()
_BOOL = _Bool()
_ANY = _Any()
_ANY_LIST = _List(_ANY, "anyType", ARRAYS)
_ANY_DICT = _Dict(_ANY)


def _compile(t: mi.Type, memo: dict[type, _Struct]) -> _Node:
    if isinstance(t, mi.Metadata):
        return _compile(t.type, memo)
    if isinstance(t, mi.StructType):
        existing = memo.get(t.cls)
        if existing is not None:
            return existing
        node = _Struct(t.cls)
        memo[t.cls] = node  # before the fields, so recursive types (addonItems) resolve
        fields = sorted(
            ((f.encode_name, pascal(f.encode_name), _compile(f.type, memo)) for f in t.fields),
            key=lambda entry: entry[1],
        )
        node.fields = fields
        node.by_lower = {name.lower(): (key, sub) for key, name, sub in fields}
        return node
    if isinstance(t, mi.UnionType):
        inner = [x for x in t.types if not isinstance(x, mi.NoneType)]
        return _compile(inner[0], memo) if len(inner) == 1 else _ANY
    if isinstance(t, mi.BoolType):
        return _BOOL
    if isinstance(t, mi.IntType):
        return _INT
    if isinstance(t, mi.FloatType):
        return _FLOAT
    if isinstance(t, mi.EnumType):
        return _Enum()
    if isinstance(
        t, mi.StrType | mi.DateTimeType | mi.DateType | mi.TimeType | mi.UUIDType | mi.DecimalType
    ):
        return _TEXT
    if isinstance(t, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        item = _compile(t.item_type, memo)
        if isinstance(item, _Struct):
            return _List(item, item.contract.name, item.contract.namespace)
        return _List(item, item.xsd, ARRAYS)
    if isinstance(t, mi.DictType):
        return _Dict(_compile(t.value_type, memo))
    return _ANY


@dataclass(frozen=True, slots=True)
class _Root:
    node: _Struct
    prefixes: dict[str, str]
    declarations: str


def _prefix_names() -> Iterator[str]:
    yield from "abcdefghjklmnopqrstuvwxyz"  # not "i": that is the instance namespace
    n = 1
    while True:
        yield f"n{n}"
        n += 1


@cache
def _root(type_: type) -> _Root:
    node = _compile(mi.type_info(type_), {})
    if not isinstance(node, _Struct):
        raise TypeError(f"{type_!r} is not a wire model (a msgspec Struct).")
    used: list[str] = []
    node.namespaces(set(), used)
    prefixes = {node.contract.namespace: ""}
    names = _prefix_names()
    declarations = [f'xmlns="{node.contract.namespace}"', f'xmlns:i="{XSI}"']
    for ns in used:
        if ns not in prefixes:
            prefixes[ns] = next(names)
            declarations.append(f'xmlns:{prefixes[ns]}="{ns}"')
    return _Root(node, prefixes, " ".join(declarations))


# --- public API -----------------------------------------------------------------------------


def encode_document(document: Any, type_: type) -> bytes:
    """The XML for an untyped document of ``type_`` (what ``msgspec.to_builtins`` gives, or
    the stored JSON bytes decoded untyped). Raises :class:`XmlEncodeError`."""
    root = _root(type_)
    name = root.node.contract.name
    if document is None:
        return f'<{name} {root.declarations} i:nil="true"/>'.encode()
    out: Writer = [f"<{name} {root.declarations}>"]
    root.node.write(document, out, root.prefixes)
    out.append(f"</{name}>")
    return "".join(out).encode()


def encode(value: msgspec.Struct, type_: type | None = None) -> bytes:
    """The XML for a wire model."""
    return encode_document(msgspec.to_builtins(value), type_ or type(value))


def encode_json(data: bytes, type_: type) -> bytes:
    """The XML for a stored JSON body of ``type_``."""
    return encode_document(msgspec.json.decode(data), type_)


def parse(
    data: bytes, type_: type, *, charset: str | None = None, max_elements: int | None = MAX_ELEMENTS
) -> Any:
    """The untyped document (the same shape JSON gives) for an XML body of ``type_``."""
    element = parse_tree(data, charset=charset, max_elements=max_elements)
    root = _root(type_)
    expected = root.node.contract.name
    if _local(element.tag).lower() != expected.lower():
        raise CodecError(
            f"Invalid request body at $: the root element is <{_local(element.tag)}>, "
            f"expected <{expected}>.",
            path="$",
        )
    if _is_nil(element):
        return None
    return root.node.read(element, "$")


def decode_request(data: bytes, type_: type[T], *, charset: str | None = None) -> T:
    """An XML request body as the server reads it (server-owned fields dropped)."""
    return convert(parse(data, type_, charset=charset), type_, drop_server_owned=True)


def decode_response(data: bytes, type_: type[T], *, charset: str | None = None) -> T:
    """An XML response body as a client reads it (nothing dropped, no element count cap)."""
    document = parse(data, type_, charset=charset, max_elements=None)
    return convert(document, type_, drop_server_owned=False)


__all__ = [
    "ARRAYS",
    "CONTRACTS",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "Contract",
    "XmlEncodeError",
    "contract_of",
    "decode_request",
    "decode_response",
    "encode",
    "encode_document",
    "encode_json",
    "escape_text",
    "parse",
    "parse_tree",
    "pascal",
    "unrepresentable",
]
