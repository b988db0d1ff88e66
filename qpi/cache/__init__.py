"""The disk cache: job results, job records and QPU records, kept across sessions.

[`Cache`][qpi.cache.Cache] is a plugin of the submission hooks of [`qpi.hooks`][qpi.hooks]. Every
[`QPIClient`][qpi.client.QPIClient] registers one (unless ``cache=False`` or the mode is ``off``),
and the
client's ``cache_mode`` decides how its answers are used:

- ``reuse``: an identical payload sent to the same server is answered from the cache with no
  request; a payload that was submitted but never collected re-attaches to its job;
- ``record``: always submit, always store;
- ``replay``: never touch the network; a payload the cache does not hold raises
  [`CacheMissError`][qpi.errors.CacheMissError];
- ``off``: no cache at all.

The store itself has no mode, so one [`Cache`][qpi.cache.Cache] can serve several clients at once.
It
keeps four kinds of entry, each keyed by the normalised server URL and:

- ``result``: a payload fingerprint -> the completed job record and the canonical payload;
- ``submitted``: a payload fingerprint -> the id of the job submitted for it, written before
  the client starts waiting, so a process killed mid-wait re-attaches instead of paying twice;
- ``job``: a job id -> the job's final record (completed, failed or cancelled);
- ``qpu``: a QPU name or id (``""`` for "the default online QPU") -> the QPU record.

Entries are JSON text in a `diskcache.Cache` (SQLite plus files), which is safe for
many threads and processes at once. Nothing is ever pickled, so a cache directory or an
export file cannot run code when read, and nothing stored holds a token or a password.

What happens when things go wrong:

- a cache directory that cannot be used at all (the path is a file, no permission) raises
  [`CacheError`][qpi.errors.CacheError] when the cache is opened;
- a damaged database (truncated, overwritten, "malformed") is moved aside to
  ``<dir>.corrupt-<time>-<pid>`` and an empty cache is started, with a
  [`CacheWarning`][qpi.cache.CacheWarning]:
  the cache holds nothing that cannot be fetched again, and the broken copy is kept to inspect;
- a damaged entry (not JSON, wrong shape, a payload that differs from the one asked for) is
  dropped with a [`CacheWarning`][qpi.cache.CacheWarning] and treated as a miss: the cache never
  answers with a
  result for a different payload, server or QPU;
- a failed write (full disk, read-only file system, lock timeout) inside a hook warns with a
  [`CacheWarning`][qpi.cache.CacheWarning] and is skipped: the job still runs and its result is
  returned;
- the management methods ([`Cache.info`][qpi.cache.Cache.info],
  [`Cache.export_to`][qpi.cache.Cache.export_to], ...) raise
  [`CacheError`][qpi.errors.CacheError] instead, since the user asked for exactly that operation.

Example:
    ```python
    from qpi import QPIClient
    from qpi.cache import Cache

    with Cache("~/qpi-cache") as cache:
        client = QPIClient("http://localhost:8090", cache=cache, cache_mode="reuse")
        print(client.run(BELL_QASM, qpu="mock").result().from_cache)  # False, then True
        cache.export_to("results.qpicache.gz")
    ```
"""

from qpi.cache.entries import KINDS, CacheEntry, normalise_server
from qpi.cache.exports import EXPORT_FORMAT, EXPORT_VERSION
from qpi.cache.store import Cache
from qpi.cache.warning import CacheWarning

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "KINDS",
    "Cache",
    "CacheEntry",
    "CacheWarning",
    "normalise_server",
]
