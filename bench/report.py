"""The table a run prints, its ratios, the targets of issue 8, and the same as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from bench.replay import Replay

if TYPE_CHECKING:
    from bench.issuance import Options, Results

ISSUE = "IssueCertificate"
TARGET_WORKERS = 2
TARGET_CONNECTIONS = 4


@dataclass(frozen=True)
class Target:
    what: str
    measured: str
    goal: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "NO", None: "not measured"}[self.met]


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 100 else f"{value:.2f}x"


def _where(target: str, workers: int | None, connections: int) -> str:
    if workers is None:
        return f"{target}, {connections} conn"
    return f"{target}, {workers}w, {connections} conn"


def _failures(replay: Replay) -> str:
    return str(replay.failed) if replay.clean else f"{replay.failed} !"


def _row(
    group: str,
    where: str,
    what: str,
    rate: float,
    replay: Replay | None = None,
    ratios: str = "",
) -> list[str]:
    if replay is None:
        return [group, where, what, _rate(rate), "-", "-", "-", "-", "-", ratios]
    cpu = replay.server_cpu_ms_per_request
    spread = replay.p99_ms / replay.p50_ms if replay.p50_ms > 0 else 0.0
    return [
        group,
        where,
        what,
        _rate(replay.rate),
        f"{replay.p50_ms:.2f}",
        f"{replay.p99_ms:.2f}",
        f"{spread:.1f}",
        _failures(replay),
        f"{cpu:.2f}" if cpu is not None else "-",
        ratios,
    ]


def _issue_ratios(results: Results, target: str, workers: int, replay: Replay) -> str:
    parts = []
    if workers > 1:
        one = results.find(target, ISSUE, replay.connections, 1)
        if one is not None and one.rate > 0:
            parts.append(f"{_ratio(replay.rate / one.rate)} of 1 worker")
    moto = results.find("moto", ISSUE, replay.connections)
    if moto is not None and moto.rate > 0:
        parts.append(f"{_ratio(replay.rate / moto.rate)} moto")
    inprocess = _inprocess_rate(results, target)
    if inprocess:
        parts.append(f"{_ratio(replay.rate / inprocess)} in-process")
    return ", ".join(parts)


def _inprocess_rate(results: Results, target: str) -> float | None:
    if target == "postgres":
        return results.inprocess_postgres
    for found in results.ceilings:
        if found.key == "P-256":
            return found.pica_issue
    return None


def rows(results: Results) -> list[list[str]]:
    table: list[list[str]] = []
    for found in results.ceilings:
        ca = f"{found.key} CA, 1 thread"
        table.append(
            _row(
                "(a)",
                ca,
                "pica issue(), SQLite",
                found.pica_issue,
                ratios=f"{_ratio(found.pica_issue / found.bare_sign)} bare, "
                f"{_ratio(found.pica_issue / found.bare_with_csr)} bare+CSR",
            )
        )
        table.append(_row("(a)", ca, "bare build+sign", found.bare_sign))
        table.append(_row("(a)", ca, "bare +CSR parse+verify", found.bare_with_csr))
    if results.inprocess_postgres is not None:
        table.append(
            _row(
                "(a)", "P-256 CA, 1 thread", "pica issue(), PostgreSQL", results.inprocess_postgres
            )
        )
    phases = [p for p in results.phases if p.target != "profile"]
    for phase in phases:
        if phase.operation == ISSUE and phase.target != "moto":
            assert phase.workers is not None
            ratios = _issue_ratios(results, phase.target, phase.workers, phase.replay)
            table.append(
                _row(
                    "(b)",
                    _where(phase.target, phase.workers, phase.replay.connections),
                    phase.operation,
                    phase.replay.rate,
                    phase.replay,
                    ratios,
                )
            )
    for phase in phases:
        if phase.target == "moto":
            table.append(
                _row(
                    "(c)",
                    _where("moto", None, phase.replay.connections),
                    phase.operation,
                    phase.replay.rate,
                    phase.replay,
                )
            )
    for phase in phases:
        if phase.operation != ISSUE:
            ratios = ""
            if phase.workers and phase.workers > 1:
                one = results.find(phase.target, phase.operation, phase.replay.connections, 1)
                if one is not None and one.rate > 0:
                    ratios = f"{_ratio(phase.replay.rate / one.rate)} of 1 worker"
            table.append(
                _row(
                    "(d)",
                    _where(phase.target, phase.workers, phase.replay.connections),
                    phase.operation,
                    phase.replay.rate,
                    phase.replay,
                    ratios,
                )
            )
    return table


HEADER = [
    "",
    "configuration",
    "measurement",
    "per s",
    "p50 ms",
    "p99 ms",
    "p99/p50",
    "failed",
    "srv CPU ms",
    "ratios",
]
RIGHT = {3, 4, 5, 6, 7, 8}


def _format(table: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [HEADER, *table]) for i in range(len(HEADER))]
    lines = []
    for index, row in enumerate([HEADER, *table]):
        cells = [
            cell.rjust(widths[i]) if i in RIGHT else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def targets(results: Results) -> list[Target]:
    """The goals issue 8 sets, each against this run's figures."""
    w, c = TARGET_WORKERS, TARGET_CONNECTIONS
    sqlite2 = results.find("sqlite", ISSUE, c, w)
    sqlite1 = results.find("sqlite", ISSUE, c, 1)
    postgres2 = results.find("postgres", ISSUE, c, w)
    moto = results.find("moto", ISSUE, c)
    ocsp_post = results.find("sqlite", "OCSP POST", c, w)
    ocsp_get = results.find("sqlite", "OCSP GET", c, w)
    where = f"SQLite, --workers {w}, {c} conns, P-256 CA"

    def at_least(what: str, replay: Replay | None, goal: float) -> Target:
        if replay is None:
            return Target(what, "-", f">= {goal:,.0f}/s", None)
        met = replay.clean and replay.rate >= goal
        return Target(what, f"{_rate(replay.rate)}/s", f">= {goal:,.0f}/s", met)

    found = [at_least(f"IssueCertificate/s, {where}", sqlite2, 1500)]
    if sqlite2 is None:
        found += [
            Target("p99 latency, same", "-", "<= 25 ms", None),
            Target("p99 / p50, same", "-", "<= 10x", None),
        ]
    else:
        spread = sqlite2.p99_ms / sqlite2.p50_ms if sqlite2.p50_ms else float("inf")
        found += [
            Target(
                "p99 latency, same",
                f"{sqlite2.p99_ms:.2f} ms",
                "<= 25 ms",
                sqlite2.clean and sqlite2.p99_ms <= 25,
            ),
            Target("p99 / p50, same", f"{spread:.1f}x", "<= 10x", sqlite2.clean and spread <= 10),
        ]
    if sqlite2 is None or moto is None or moto.rate == 0:
        found.append(Target(f"pica / moto ({c} conns each)", "-", ">= 100x", None))
    else:
        ratio = sqlite2.rate / moto.rate
        found.append(
            Target(
                f"pica / moto ({c} conns each)",
                _ratio(ratio),
                ">= 100x",
                sqlite2.clean and moto.clean and ratio >= 100,
            )
        )
    if sqlite2 is None or sqlite1 is None or sqlite1.rate == 0:
        found.append(Target(f"2 workers / 1 worker (SQLite, {c} conns)", "-", ">= 1.6x", None))
    else:
        ratio = sqlite2.rate / sqlite1.rate
        found.append(
            Target(
                f"2 workers / 1 worker (SQLite, {c} conns)",
                _ratio(ratio),
                ">= 1.6x",
                sqlite2.clean and sqlite1.clean and ratio >= 1.6,
            )
        )
    found.append(
        at_least(f"IssueCertificate/s, PostgreSQL, --workers {w}, {c} conns", postgres2, 1000)
    )
    found.append(at_least(f"OCSP POST responses/s (SQLite, {w}w, {c} conns)", ocsp_post, 3000))
    found.append(at_least(f"OCSP GET responses/s (SQLite, {w}w, {c} conns)", ocsp_get, 3000))
    return found


def _failures_block(results: Results) -> list[str]:
    lines: list[str] = []
    failing = [p for p in results.phases if not p.replay.clean]
    if failing:
        lines += ["", "  FAILED REQUESTS (figures of these rows are not valid):"]
        for phase in failing:
            replay = phase.replay
            statuses = ", ".join(f"HTTP {k}: {v}" for k, v in sorted(replay.statuses.items()))
            errors = ", ".join(f"{k}: {v}" for k, v in replay.socket_errors.items() if v)
            where = _where(phase.target, phase.workers, replay.connections)
            lines.append(
                f"    {where} {phase.operation}: {statuses}; {errors or 'no socket errors'}"
            )
    return lines


def render(results: Results, options: Options) -> str:
    env = results.environment
    lines = [
        "",
        "pica issuance benchmark (issue 8)",
        *[f"  {key + ':':<9} {value}" for key, value in env.items()],
        f"  phases:   {options.duration:g} s each after a checked warm-up; in-process "
        f"{options.inprocess_seconds:g} s each; every request signed right before its phase",
        "",
    ]
    if options.profile_only:
        profiles = ["Profiles (py-spy, 1 worker, SQLite):", *results.profiles]
        return "\n".join([*lines, *_failures_block(results), *profiles])
    lines += [
        *_format(rows(results)),
        "",
        "  (a) one thread, no HTTP: pica's CertificateService.issue (durable commit included) and",
        "      bare pyca/cryptography for an EndEntity P-256 certificate signed by each CA key.",
        "  (b) IssueCertificate over HTTP, EndEntityCertificate/V1, P-256 CA, real SigV4: one",
        "      request signed by botocore, replayed over keep-alive connections.",
        "  (c) the same request against moto's server (it signs with its own RSA-2048 CA key).",
        "  (d) OCSP (one DER request, POST and GET) and GetCertificate, pre-signed, same clients.",
        "  failed: non-2xx responses + connection/read/timeout errors (must be 0); srv CPU ms:",
        "  server process-tree CPU per request; p99/p50: the latency spread.",
    ]
    lines += _failures_block(results)
    for skipped in results.skipped:
        lines.append(f"  skipped: {skipped}")
    lines += ["", "Targets (issue 8)"]
    found = targets(results)
    width = max(len(t.what) for t in found)
    for target in found:
        lines.append(
            f"  {target.what:<{width}}  {target.measured:>10}  {target.goal:>10}  {target.verdict}"
        )
    if results.profiles:
        lines += ["", "Profiles (py-spy, 1 worker, SQLite):", *results.profiles]
    return "\n".join(lines)


def as_json(results: Results, options: Options) -> dict[str, Any]:
    return {
        "environment": results.environment,
        "options": {
            "duration": options.duration,
            "backends": list(options.backends),
            "workers": list(options.workers),
            "connections": list(options.connections),
            "client": options.client,
            "quick": options.quick,
        },
        "ceilings": [asdict(found) for found in results.ceilings],
        "inprocess_postgres": results.inprocess_postgres,
        "phases": [phase.to_json() for phase in results.phases],
        "targets": [asdict(target) | {"verdict": target.verdict} for target in targets(results)],
        "skipped": results.skipped,
        "profiles": results.profiles,
        "clean": all(phase.replay.clean for phase in results.phases),
    }
