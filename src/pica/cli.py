"""`pica serve | init | backup | restore | accounts | keys | migrate | version`: parse
arguments, call the app, print results.

Management commands open the same database as the server and work while it runs.

Over the ~400 lines pica aims for because it holds the parser of every subcommand with the few
lines that call the app for it; each command's logic lives in the module it calls.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from pica.adapters.keystore.kek_file import KeyStoreError
from pica.errors import PicaError
from pica.settings import (
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    DEFAULT_PORT,
    LOG_LEVELS,
    Settings,
    SettingsError,
    load,
    settings_table,
)
from pica.startup import StartupError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"pica: {message} (see {self.prog} --help)\n")


class _VersionAction(argparse.Action):
    """`--version`, with the revision looked up only when asked for (it may run git)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        from pica.version import describe

        print(describe())
        parser.exit(0)


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=None,
        help=f"directory holding the database, key-encryption key and client files "
        f"(default {DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--database-url", default=None, help="SQLAlchemy URL (default: SQLite in the data dir)"
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pica", description="A private CA that speaks the ACM PCA API.")
    parser.add_argument(
        "--version", action=_VersionAction, help="print the version and git revision, and exit"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("version", help="print the version and the git revision it was built from")

    serve = commands.add_parser(
        "serve",
        help="serve the ACM Private CA and ACM APIs",
        description="Serve the ACM Private CA and ACM APIs. On an empty or absent data dir, first\n"
        "create the database, the key-encryption key and an account with its client files.",
        epilog="settings come from (later wins) defaults, <data-dir>/pica.toml (`name = value`),\n"
        "PICA_* environment variables and the flags above:\n\n" + settings_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument(
        "--host", default=None, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    serve.add_argument("--port", type=int, default=None, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument("--workers", type=int, default=None, help="worker processes (default 1)")
    serve.add_argument(
        "--region", default=None, help="region written into ARNs (default us-east-1)"
    )
    serve.add_argument("--log-level", default=None, help=", ".join(LOG_LEVELS))
    serve.add_argument(
        "--public-url",
        default=None,
        help="URL clients reach pica at, written into certificates' CRL and OCSP URLs "
        "(default: the address served)",
    )
    serve.add_argument(
        "--tls",
        action="store_const",
        const=True,
        default=None,
        help="serve HTTPS with a certificate from pica's internal TLS CA (see README: HTTPS)",
    )
    serve.add_argument("--tls-cert-file", default=None, help="PEM certificate chain to serve")
    serve.add_argument("--tls-key-file", default=None, help="PEM private key of --tls-cert-file")
    _add_data_dir(serve)

    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    _add_data_dir(migrate)

    init = commands.add_parser(
        "init",
        help="create and activate a root CA in one command",
        description="Create a self-signed root CA for the data dir's account, import its "
        "certificate (ACTIVE), with CRLs (published and served by pica) and OCSP on, and write "
        "the root certificate to a PEM file. Works whether or not pica serve runs on the data "
        "dir; on an absent or empty one it first sets up what pica serve would.",
    )
    init.add_argument("--common-name", required=True, help="the root's subject CN")
    init.add_argument("--organization", default=None, help="the root's subject O")
    init.add_argument(
        "--key-algorithm",
        default="RSA_2048",
        help="the CA key: RSA_2048 (default, as in the AWS guide), RSA_3072, RSA_4096, "
        "EC_prime256v1, EC_secp384r1, EC_secp521r1, ML_DSA_44, ML_DSA_65 or ML_DSA_87",
    )
    init.add_argument(
        "--validity-years", type=int, default=10, help="the root's lifetime (default 10)"
    )
    init.add_argument(
        "--account", default=None, help="account id (default: the data dir's credentials)"
    )
    init.add_argument(
        "--output",
        default=None,
        help="where to write the root certificate PEM (default <data-dir>/root-ca.pem); "
        "never overwritten",
    )
    init.add_argument("--json", action="store_true", help="machine-readable output")
    _add_data_dir(init)

    backup = commands.add_parser(
        "backup",
        help="write a consistent backup of the database (works while pica serves)",
        description="Write one file (gzip tar, mode 0600) holding a consistent copy of the "
        "database (SQLite online backup, or pg_dump) and a manifest. The key-encryption key "
        "is left out unless --include-kek is given: keep it safe separately.",
    )
    backup.add_argument("--output", required=True, help="the file to create (never replaced)")
    backup.add_argument(
        "--include-kek",
        action="store_true",
        help="put the key-encryption key in the file too: whoever holds it can open every CA key",
    )
    _add_data_dir(backup)
    backup.add_argument("--json", action="store_true", help="print the manifest as JSON")

    restore = commands.add_parser(
        "restore",
        help="restore a backup into an empty data dir (and empty database)",
        description="Restore a file of pica backup into an empty data dir (absent, or holding "
        "only pica.toml) and, for a PostgreSQL backup, an empty database (--database-url).",
    )
    restore.add_argument("--input", required=True, help="the backup file")
    _add_data_dir(restore)
    restore.add_argument("--json", action="store_true", help="machine-readable output")

    accounts = commands.add_parser("accounts", help="manage accounts")
    account_commands = accounts.add_subparsers(dest="action", required=True)
    for name, help_text in (("create", "create an account"), ("list", "list accounts")):
        sub = account_commands.add_parser(name, help=help_text)
        _add_data_dir(sub)
        sub.add_argument("--json", action="store_true", help="machine-readable output")

    keys = commands.add_parser("keys", help="manage access keys")
    key_commands = keys.add_subparsers(dest="action", required=True)
    create = key_commands.add_parser("create", help="create an access key for an account")
    create.add_argument("--account", required=True, help="12-digit account id")
    listing = key_commands.add_parser("list", help="list access keys")
    listing.add_argument("--account", default=None, help="only this account's keys")
    delete = key_commands.add_parser("delete", help="delete an access key")
    delete.add_argument("access_key_id")
    for sub in (create, listing, delete):
        _add_data_dir(sub)
        sub.add_argument("--json", action="store_true", help="machine-readable output")

    from pica.kek_admin import add_kek_parser

    add_kek_parser(commands, _add_data_dir)

    audit = commands.add_parser("audit", help="read and check the audit trail")
    audit_commands = audit.add_subparsers(dest="action", required=True)
    audit_list = audit_commands.add_parser("list", help="list audit records, oldest first")
    audit_list.add_argument("--ca", default=None, help="only records about this CA ARN")
    audit_list.add_argument("--account", default=None, help="only this account's records")
    audit_list.add_argument(
        "--action", dest="action_filter", default=None, help="only this operation"
    )
    audit_list.add_argument("--since", default=None, help="ISO 8601 time, inclusive")
    audit_list.add_argument("--until", default=None, help="ISO 8601 time, exclusive")
    audit_list.add_argument("--limit", type=int, default=None, help="at most this many")
    audit_verify = audit_commands.add_parser(
        "verify", help="seal pending records, then check the hash chain (exit 1 when broken)"
    )
    for sub in (audit_list, audit_verify):
        _add_data_dir(sub)
        sub.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    names = (
        "host",
        "port",
        "workers",
        "region",
        "log_level",
        "public_url",
        "data_dir",
        "database_url",
        "tls",
        "tls_cert_file",
        "tls_key_file",
    )
    return load({n: getattr(args, n) for n in names if getattr(args, n, None) is not None})


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2) if getattr(args, "json", False) else text)


def _log_config(level: str, access_log: str = "off") -> dict[str, Any]:
    """uvicorn's logging setup plus pica's own loggers (uvicorn's dictConfig would otherwise
    drop every handler configured before it, and with them pica's error logs).

    The access log (`pica.access`) is its own stream: each line exactly as rendered (JSON or
    logfmt, no prefix) on stdout, at INFO whatever `log_level` says; `access_log = "off"`
    is the one switch that silences it.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["pica"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["formatters"]["pica_access"] = {"format": "%(message)s"}
    config["handlers"]["pica"] = {
        "class": "logging.StreamHandler",
        "formatter": "pica",
        "stream": "ext://sys.stderr",
    }
    config["handlers"]["pica_access"] = {
        "class": "logging.StreamHandler",
        "formatter": "pica_access",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["pica"] = {"handlers": ["pica"], "level": level.upper(), "propagate": False}
    config["loggers"]["pica.access"] = {
        "handlers": ["pica_access"],
        "level": "INFO" if access_log != "off" else "CRITICAL",
        "propagate": False,
    }
    return config


def _serve(settings: Settings) -> int:
    from pica import serving
    from pica.app import SETTINGS_ENV, bootstrap, build_runtime, client_exports
    from pica.startup import public_url_warning

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.log_level != "debug":
        # Alembic narrates every start ("Context impl SQLiteImpl."); only its problems matter.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    # The port first: nothing is created, written or printed before it is ours.
    sockets = serving.listen(settings.host, settings.port)
    try:
        runtime = build_runtime(settings, initialise=True)
        try:
            if settings.tls:
                from pica import tls

                tls.prepare(settings)  # the data dir exists now
            bootstrap(runtime)
            sealed = runtime.key_store.sealed
        finally:
            runtime.close()
        warning = public_url_warning(settings)
        if warning is not None:
            print(f"pica: warning: {warning}", file=sys.stderr, flush=True)
        print(f"pica serves the ACM Private CA and ACM APIs at {settings.endpoint_url}", flush=True)
        print("Point the aws CLI at it with:", flush=True)
        print(client_exports(settings), flush=True)
        print("then try: aws acm-pca list-certificate-authorities", flush=True)
        if sealed:
            print(
                f"pica is sealed (the KEK file {settings.resolved_kek_file} is protected by a "
                "passphrase): reads work, signing answers 503 until you run\n"
                f"  pica unseal --data-dir {settings.data_dir} --passphrase-file <file>",
                flush=True,
            )
        os.environ[SETTINGS_ENV] = settings.to_json()
        serving.run(settings, sockets, _log_config(settings.log_level, settings.access_log))
    finally:
        for sock in sockets:
            sock.close()
    return 0


def _init(args: argparse.Namespace, settings: Settings) -> int:
    from pica.root_ca import RootRequest, create_root

    root = create_root(
        settings,
        RootRequest(
            common_name=args.common_name,
            organization=args.organization,
            key_algorithm=args.key_algorithm,
            validity_years=args.validity_years,
            account_id=args.account,
            output=Path(args.output) if args.output else None,
        ),
    )
    text = [
        f"created and activated the root CA {args.common_name!r} "
        f"({args.key_algorithm}, {root.signing_algorithm}, {args.validity_years} years)",
        f"  CA ARN            {root.arn}",
        f"  SHA-256           {root.sha256_fingerprint}",
        f"  root certificate  {root.certificate_path}",
        f"  CRL               bucket {root.crl_bucket}, published by pica serve",
        "  OCSP              answered by pica serve at <public_url>/ocsp",
    ]
    if root.new_account_exports is not None:
        text += [
            f"set up {settings.data_dir} with account {root.account_id}; start it with "
            f"`pica serve --data-dir {settings.data_dir}` and point the aws CLI at it with:",
            root.new_account_exports,
        ]
    text += [
        "issue a certificate with:",
        "  openssl req -new -newkey rsa:2048 -nodes -keyout cert_1.key -out cert_1.csr "
        '-subj "/CN=www.example.com"',
        f"  {root.next_command()}",
    ]
    _emit(
        args,
        {
            "CertificateAuthorityArn": root.arn,
            "AccountId": root.account_id,
            "Sha256Fingerprint": root.sha256_fingerprint,
            "CertificatePath": str(root.certificate_path),
            "CrlBucket": root.crl_bucket,
            "NextCommand": root.next_command(),
        },
        "\n".join(text),
    )
    return 0


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import asdict

    from pica.backup import create_backup

    manifest = create_backup(settings, Path(args.output), include_kek=args.include_kek)
    output = Path(args.output).absolute()
    if manifest.kek_included:
        print(
            f"pica: WARNING: {output} HOLDS THE KEY-ENCRYPTION KEY. Anyone who reads this file "
            "can open every CA private key in it: store it encrypted and offline, apart from "
            "ordinary backups.",
            file=sys.stderr,
        )
    else:
        print(
            f"pica: the key-encryption key is NOT in {output}; without "
            f"{settings.resolved_kek_file} the CA keys in it cannot be opened: back that file "
            "up separately (or use --include-kek)",
            file=sys.stderr,
        )
    _emit(
        args,
        asdict(manifest),
        f"wrote {output} ({manifest.database} database, schema {manifest.schema_revision}, "
        f"KEK {'included' if manifest.kek_included else 'not included'})",
    )
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from pica.backup import restore_backup

    restored = restore_backup(settings, Path(args.input))
    lines = [f"restored the {restored.manifest.database} database into {restored.database}"]
    if restored.kek_path is not None:
        lines.append(f"wrote the key-encryption key to {restored.kek_path} (mode 0600)")
    elif restored.key_refs:
        lines.append(
            f"the backup holds no key-encryption key: put the KEK file holding "
            f"{', '.join(sorted(restored.key_refs))} at {settings.resolved_kek_file} before "
            "starting pica"
        )
    lines.append(
        "every CRL is republished by the first pica serve; client files (credentials, config) "
        "are not in backups: keep yours, or make a key with `pica keys create`"
    )
    lines.append(f"start it with: pica serve --data-dir {settings.data_dir}")
    _emit(
        args,
        {
            "Database": restored.database,
            "KekFile": str(restored.kek_path) if restored.kek_path else None,
            "KeyRefs": sorted(restored.key_refs),
            "Manifest": restored.manifest.__dict__,
        },
        "\n".join(lines),
    )
    return 0


def _manage(args: argparse.Namespace, settings: Settings) -> int:
    from pica.app import build_runtime

    runtime = build_runtime(settings, initialise=False)
    accounts = runtime.services.accounts
    try:
        if args.command == "accounts" and args.action == "create":
            account = accounts.create_account()
            _emit(args, {"AccountId": account.account_id}, account.account_id)
        elif args.command == "accounts":
            items = accounts.list_accounts()
            _emit(
                args,
                {
                    "Accounts": [
                        {"AccountId": a.account_id, "CreatedAt": a.created_at.isoformat()}
                        for a in items
                    ]
                },
                "\n".join(a.account_id for a in items),
            )
        elif args.action == "create":
            creds = accounts.create_access_key(args.account)
            _emit(
                args,
                {
                    "AccessKeyId": creds.access_key_id,
                    "SecretAccessKey": creds.secret_access_key,
                    "AccountId": creds.account_id,
                },
                f"AccessKeyId     {creds.access_key_id}\n"
                f"SecretAccessKey {creds.secret_access_key}\n"
                f"AccountId       {creds.account_id}",
            )
        elif args.action == "list":
            keys = accounts.list_access_keys(args.account)
            _emit(
                args,
                {
                    "AccessKeys": [
                        {
                            "AccessKeyId": k.access_key_id,
                            "AccountId": k.account_id,
                            "CreatedAt": k.created_at.isoformat(),
                        }
                        for k in keys
                    ]
                },
                "\n".join(f"{k.access_key_id}\t{k.account_id}" for k in keys),
            )
        else:
            accounts.delete_access_key(args.access_key_id)
            _emit(
                args,
                {"AccessKeyId": args.access_key_id, "Deleted": True},
                f"deleted {args.access_key_id}",
            )
    finally:
        runtime.close()
    return 0


def _moment(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SettingsError(f"{option} {text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _audit(args: argparse.Namespace, settings: Settings) -> int:
    from pica.app import build_runtime
    from pica.authority.audit_trail import AuditFilter

    runtime = build_runtime(settings, initialise=False)
    trail = runtime.services.audit_trail
    try:
        if args.action == "verify":
            sealed = trail.seal_pending()
            while sealed:
                sealed = trail.seal_pending()
            result = trail.verify()
            _emit(
                args,
                {
                    "Ok": result.ok,
                    "Checked": result.checked,
                    "Unsealed": result.unsealed,
                    "HeadPosition": result.head_position,
                    "HeadHash": result.head_hash,
                    "Problem": result.problem,
                },
                f"ok: {result.checked} records, head {result.head_position} {result.head_hash}"
                if result.ok
                else f"BROKEN after {result.checked} good records: {result.problem}",
            )
            return 0 if result.ok else 1
        filters = AuditFilter(
            resource=args.ca,
            account_id=args.account,
            action=args.action_filter,
            since=_moment(args.since, "--since"),
            until=_moment(args.until, "--until"),
            limit=args.limit,
        )
        items = []
        for stored in trail.list(filters):
            record = stored.record
            items.append(
                {
                    "Id": stored.record_id,
                    "Position": stored.position,
                    "At": record.at.isoformat(),
                    "RequestId": record.request_id,
                    "Account": record.account_id,
                    "AccessKeyId": record.access_key_id,
                    "Action": record.action,
                    "Resource": record.resource,
                    "Result": record.result,
                    "Detail": record.detail,
                    "Hash": stored.hash,
                }
            )
        _emit(
            args,
            {"Records": items},
            "\n".join(
                "\t".join(
                    str(item[k] or "-")
                    for k in ("At", "Account", "AccessKeyId", "Action", "Resource", "Result")
                )
                for item in items
            ),
        )
    finally:
        runtime.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "version":
        from pica.version import describe

        print(describe())
        return 0
    try:
        settings = _settings(args)
        if args.command == "serve":
            return _serve(settings)
        if args.command == "init":
            return _init(args, settings)
        if args.command == "backup":
            return _backup(args, settings)
        if args.command == "restore":
            return _restore(args, settings)
        if args.command == "migrate":
            from pica.startup import migrate_database

            print(f"database at {migrate_database(settings)} is up to date")
            return 0
        if args.command == "audit":
            return _audit(args, settings)
        if args.command == "kek":
            from pica.kek_admin import run_kek

            return run_kek(args, settings)
        if args.command == "unseal":
            from pica.kek_admin import run_unseal

            return run_unseal(args, settings)
        return _manage(args, settings)
    except (SettingsError, StartupError, PicaError, KeyStoreError, OSError) as exc:
        # One line, whatever stopped us: no traceback for a setting, a file or a port.
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"pica: {message}", file=sys.stderr)
        return 2
