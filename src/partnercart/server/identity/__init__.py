"""Who is calling: bearer tokens like Entra ID's, checked on every Partner Center route."""
