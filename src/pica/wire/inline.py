"""Which request work runs on the event loop itself instead of hopping to a worker thread.

The hop (`pica.wire.blocking.run_blocking`) costs more than it buys for short, CPU-bound work
on a local database: waking a pool thread, the loop's self-pipe wake-up when it is done, and
the GIL handed back and forth between the threads of a worker that has several requests in
flight. Measured (bench/README.md, fourth round): an IssueCertificate driven through the ASGI
app in one process costs ~1.35 ms of CPU with the hop and ~0.95 ms without; over HTTP, two
workers and four connections, the inline server did more issuances at less CPU per request in
every alternated pair of phases.

Inline work blocks the worker's loop while it runs, so it is limited to what is short and
bounded whatever the input:
- the hot operations listed here (reads of one resource, issuance, revocation: one CSR, one
  signature, a couple of short transactions) and OCSP answers. Creating a CA (key generation),
  audit reports, listings and the ACM operations keep the thread hop;
- and only on the embedded SQLite database with keys in the file key store. With PostgreSQL a
  request spends much of its time waiting on the network, and a PKCS#11 token's signature is a
  round trip to a device: there the thread hop lets the loop serve other requests meanwhile.
Across worker processes SQLite's write lock is taken with flock(2) for the write phase only.
The writes served here (IssueCertificate, RevokeCertificate) are written as steps
(`pica.authority.write_turns`): before its write transaction the loop awaits the writers'
queue being free, waited for in a helper thread, so a worker whose write queues behind
another process's commit serves its other connections meanwhile (with two workers at full
load the queue is held a good part of the time: bench/README.md, sixth round).
"""

from __future__ import annotations

from pica.wire.awsjson.dispatch import TARGET_PREFIX

INLINE_OPERATIONS = frozenset(
    {
        "IssueCertificate",
        "GetCertificate",
        "RevokeCertificate",
        "DescribeCertificateAuthority",
        "GetCertificateAuthorityCertificate",
        "GetCertificateAuthorityCsr",
        "ListTags",
    }
)
INLINE_TARGETS = frozenset(f"{TARGET_PREFIX}{operation}" for operation in INLINE_OPERATIONS)


def serves_inline(database_url: str, key_store: str) -> bool:
    """Whether an installation runs its hot request work on the event loop (see above)."""
    return database_url.startswith("sqlite") and key_store == "file"
