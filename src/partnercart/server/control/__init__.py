"""The emulator's control plane: virtual clocks, fault rules, the request log, reset and seed.

Nothing here is part of the Partner Center API; it is served under ``/_partnercart/`` and
guarded by the admin credential.
"""
