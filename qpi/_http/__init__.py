"""What the transport guards against, one concern a module: hostile servers and leaked secrets.

- ``bodies``: read an answer under a deadline and a size cap, decompressing with a bound;
  decode JSON into a typed error rather than ``RecursionError``.
- ``deadlines``: the overall deadline of a call (a wait passes its own down to every request).
- ``origins``: which redirects may be followed with credentials (same scheme, host and port).
- ``redact``: URLs and headers with their credentials taken out, for messages and errors.
"""
