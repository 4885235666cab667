"""partnercart: the Partner Center cart, checkout and order API as a server, SDK and CLI."""

__version__ = "0.1.0"

__all__ = ["__version__"]
