"""The product catalog: the default shipped as data, user files, and the in-memory index."""

from partnercart.server.catalog.index import Catalog, Offer
from partnercart.server.catalog.loader import CatalogError, default_catalog, load_catalog

__all__ = ["Catalog", "CatalogError", "Offer", "default_catalog", "load_catalog"]
