"""`python -m bench [BENCHMARK] [ARGS...]`: pica's benchmarks; see bench/README.md.

issuance   (default; `make bench`) the issue 8 table: in-process ceiling, IssueCertificate
           over HTTP on SQLite and PostgreSQL, 1 and 2 workers, moto, OCSP, GetCertificate
keycache   [N] what opening each CA key once saves, in-process and through boto3
keystores  [N] issuance/s and OCSP/s with CA keys in the file store and in SoftHSM2
lint       [N] the lint gate's cost per certificate next to signing
revocation [max_entries] [ocsp_requests] CRL build+sign size/time, OCSP responses/s
audit      [max_certificates] audit report time and peak memory (10k, 100k certificates)
tls        [--duration S] IssueCertificate over plain HTTP, with throttling on, and over TLS
alternate  --a REV [--b REV] two versions served side by side, their phases alternated
asgi       [N] CPU per IssueCertificate through the ASGI app in-process, next to issue()
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def _legacy(module: str) -> Callable[[list[str]], int]:
    """A benchmark whose main() reads sys.argv itself."""

    def run(argv: list[str]) -> int:
        imported = __import__(f"bench.{module}", fromlist=["main"])
        sys.argv = [f"python -m bench {module}", *argv]
        imported.main()
        return 0

    return run


def _issuance(argv: list[str]) -> int:
    from bench.issuance import main

    started = time.monotonic()
    code = main(argv)
    print(f"(took {time.monotonic() - started:.0f} s)", file=sys.stderr)
    return code


def _keycache(argv: list[str]) -> int:
    from bench.key_cache import main

    main(argv)
    return 0


def _keystores(argv: list[str]) -> int:
    from bench.key_stores import main

    main(argv)
    return 0


def _alternate(argv: list[str]) -> int:
    from bench.alternate import main

    return main(argv)


def _asgi(argv: list[str]) -> int:
    from bench.asgi_inprocess import main

    return main(argv)


def _tls(argv: list[str]) -> int:
    from bench.tls import main

    return main(argv)


BENCHMARKS: dict[str, Callable[[list[str]], int]] = {
    "issuance": _issuance,
    "tls": _tls,
    "alternate": _alternate,
    "asgi": _asgi,
    "keycache": _keycache,
    "keystores": _keystores,
    "lint": _legacy("lint_gate"),
    "revocation": _legacy("revocation"),
    "audit": _legacy("audit_report"),
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if argv and argv[0] in BENCHMARKS:
        return BENCHMARKS[argv[0]](argv[1:])
    if argv and argv[0].isdigit():  # the old `python -m bench [N]` was the key-cache benchmark
        return _keycache(argv)
    return _issuance(argv)  # `python -m bench [--quick ...]` runs the main table


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
