"""The one way XML is parsed: ``defusedxml`` with document type declarations, entity
declarations and external references forbidden, and depth and element count capped while the
parser runs (so a hostile body stops early instead of being built first)."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml.common import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml.ElementTree import DefusedXMLParser

from partnercart.schema.codec import CodecError

#: Parsing limits for request bodies (see docs/wire-format.md); the body size limit bounds the
#: rest. A cart at its 100-line limit needs a few thousand elements.
MAX_DEPTH = 64
MAX_ELEMENTS = 20_000


class _LimitedBuilder(TreeBuilder):
    def __init__(self, max_elements: int | None) -> None:
        super().__init__()
        self.depth = 0
        self.count = 0
        self.max_elements = max_elements

    def start(self, tag: Any, attrs: Any) -> Element:
        self.depth += 1
        self.count += 1
        if self.depth > MAX_DEPTH:
            raise CodecError(
                f"The XML body is nested deeper than the limit of {MAX_DEPTH} elements."
            )
        if self.max_elements is not None and self.count > self.max_elements:
            raise CodecError(
                f"The XML body has more than the limit of {self.max_elements} elements."
            )
        return super().start(tag, attrs)

    def end(self, tag: Any) -> Element:
        self.depth -= 1
        return super().end(tag)


def parse_tree(
    data: bytes, *, charset: str | None = None, max_elements: int | None = MAX_ELEMENTS
) -> Element:
    """Parse XML with DTDs, entities and external references forbidden, within the limits.

    With ``charset`` (from Content-Type) the bytes are decoded with it and the document's own
    encoding declaration is ignored, as RFC 7303 says; otherwise the parser reads the
    declaration (UTF-8 when there is none)."""
    parser = DefusedXMLParser(
        target=_LimitedBuilder(max_elements),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        if charset is not None:
            try:
                text = data.decode(charset)
            except (LookupError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
                raise CodecError(f"The XML body cannot be read as {charset}: {exc}.") from None
            parser.feed(text.removeprefix("\ufeff"))
        else:
            parser.feed(data)
        root: Element = parser.close()
    except DTDForbidden:
        raise CodecError(
            "The XML body was refused: document type declarations (DTDs) are not accepted."
        ) from None
    except EntitiesForbidden:
        raise CodecError(
            "The XML body was refused: entity declarations are not accepted."
        ) from None
    except ExternalReferenceForbidden:
        raise CodecError(
            "The XML body was refused: external references are not accepted."
        ) from None
    except DefusedXmlException:
        raise CodecError("The XML body was refused: it uses a forbidden XML feature.") from None
    except ParseError as exc:
        raise CodecError(f"The request body is not well-formed XML: {exc}.") from None
    except CodecError:
        raise  # a limit, from the tree builder
    except (LookupError, ValueError) as exc:  # an unknown encoding in the XML declaration
        raise CodecError(f"The XML body cannot be decoded: {exc}.") from None
    return root
