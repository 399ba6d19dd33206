"""Hypothesis strategies for whole requests to pica: every API operation, SigV4 headers, GETs.

API bodies are derived from botocore's acm-pca model, shape by shape: a structure draws its
required members and some optional ones, a string its enum or pattern, a number its range, a
blob base64 of a real CSR or certificate. Any value may instead be junk (another JSON type, a
huge number, a deep container) and a body may be mangled bytes, so requests reach every layer:
SigV4, JSON, model validation, the codec, the handlers and the domain. Members that name things
(ARNs, serials, buckets) mostly draw from real targets made for the run, so lookups succeed and
the deeper code runs.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import ServiceModel, Shape
from hypothesis import strategies as st

from pica.wire.awsjson.java_pattern import compile_java_pattern
from pica.wire.awsjson.service_model import load_service_model

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "ACMPrivateCA."
TEMPLATES = (
    "arn:aws:acm-pca:::template/EndEntityCertificate/V1",
    "arn:aws:acm-pca:::template/BlankEndEntityCertificate_APIPassthrough/V1",
    "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1",
    "arn:aws:acm-pca:::template/RootCACertificate/V1",
    "arn:aws:acm-pca:::template/NoSuchTemplate/V1",
)
CUSTOM_PATHS = ("crl", "pki/crl", "/", ".", "..", "a/../b", "%2e%2e", "a//b", "x.crl")


@dataclass(frozen=True)
class Targets:
    """Real things on the server under test, made by `tests.fuzz.world` before the run."""

    endpoint: str
    region: str
    access_key: str
    secret_key: str
    ca_arns: tuple[str, ...]
    certificate_arns: tuple[str, ...]
    serials: tuple[str, ...]
    blobs: tuple[bytes, ...]  # CSRs, certificates and chains, PEM
    buckets: tuple[str, ...]
    crl_paths: tuple[str, ...]  # paths pica serves CRLs at
    ocsp_requests: tuple[bytes, ...]  # DER

    @property
    def ca_ids(self) -> tuple[str, ...]:
        return tuple(arn.rsplit("/", 1)[1] for arn in self.ca_arns)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    kind: str

    def describe(self) -> str:
        return f"{self.method} {self.path[:200]} {self.headers} {self.body[:600]!r}"


# --- junk -------------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
JUNK: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each drawn about in proportion to its weight.

    `one_of` picks a branch uniformly and merges branches that are the same object, so a
    strategy is repeated as distinct (identity) maps; a flatmap would weigh too, but it builds
    a strategy per draw and is several times slower.
    """
    return st.one_of([strategy.map(_same) for weight, strategy in choices for _ in range(weight)])


def _same(value: Any) -> Any:
    return value


def mostly(valid: st.SearchStrategy[Any], junk_one_in: int = 20) -> st.SearchStrategy[Any]:
    """`valid`, and junk about once in `junk_one_in` draws."""
    return weighted((junk_one_in - 1, valid), (1, JUNK))


JUNK_BYTES = st.binary(max_size=64)


def _mangle(valid: bytes, how: int, size: int, junk: bytes) -> bytes:
    """A valid body cut short, spliced with junk, re-encoded, nested deep, or replaced."""
    if how == 0:
        return valid[: size % (len(valid) or 1)]
    if how == 1:
        return valid[: len(valid) // 2] + junk
    if how == 2:
        return valid.decode("utf-8", "replace").encode("utf-16")
    if how == 3:
        return b"[" * size + b"]" * size
    if how == 4:
        return b'{"a":' * size + b"1" + b"}" * size
    return junk


# --- the model ----------------------------------------------------------------------------------


class ModelStrategies:
    """Strategies for each operation's input, derived from the model's shapes."""

    def __init__(self, targets: Targets, model: ServiceModel | None = None) -> None:
        self.targets = targets
        self.model = model or load_service_model()
        self.operations = tuple(sorted(self.model.operation_names))
        self._bodies: dict[str, st.SearchStrategy[bytes]] = {}

    def body(self, operation: str) -> st.SearchStrategy[bytes]:
        if operation not in self._bodies:
            shape = self.model.operation_model(operation).input_shape
            valid = (st.just({}) if shape is None else self.value(shape, "", 0)).map(
                lambda value: json.dumps(value).encode()
            )
            mangled = st.builds(_mangle, valid, st.integers(0, 5), st.integers(0, 3000), JUNK_BYTES)
            self._bodies[operation] = weighted((12, valid), (1, mangled))
        return self._bodies[operation]

    def value(self, shape: Shape, member: str, depth: int) -> st.SearchStrategy[Any]:
        named = self._named(member, shape)
        if named is not None:
            return mostly(named)
        kind = shape.type_name
        if kind == "structure":
            if depth > 8:
                return st.just({})
            required = set(shape.required_members)
            return mostly(
                st.fixed_dictionaries(
                    {
                        n: self.value(m, n, depth + 1)
                        for n, m in shape.members.items()
                        if n in required
                    },
                    optional={
                        n: self.value(m, n, depth + 1)
                        for n, m in shape.members.items()
                        if n not in required
                    },
                )
            )
        if kind == "list":
            low = shape.metadata.get("min", 0)
            high = min(shape.metadata.get("max", 4), 4)
            return mostly(
                st.lists(
                    self.value(shape.member, member, depth + 1),
                    min_size=min(low, high),
                    max_size=high,
                )
            )
        if kind == "map":
            return mostly(
                st.dictionaries(
                    self.value(shape.key, member, depth + 1),
                    self.value(shape.value, member, depth + 1),
                    max_size=3,
                )
            )
        if kind == "string":
            return mostly(self._string(shape))
        if kind in ("integer", "long"):
            low = shape.metadata.get("min")
            high = shape.metadata.get("max")
            return mostly(weighted((9, st.integers(low, high)), (1, st.integers(-(2**64), 2**64))))
        if kind == "boolean":
            return mostly(st.booleans())
        if kind == "blob":
            return mostly(self._blob())
        if kind == "timestamp":
            return mostly(st.floats(allow_nan=False, allow_infinity=False))
        return JUNK

    def _string(self, shape: Shape) -> st.SearchStrategy[str]:
        if shape.enum:
            return weighted((9, st.sampled_from(shape.enum)), (1, st.text(max_size=20)))
        pattern = shape.metadata.get("pattern")
        low = shape.metadata.get("min", 0)
        high = min(shape.metadata.get("max", 64), 300)
        sized = st.text(min_size=min(low, high), max_size=high)
        if pattern:
            return weighted(
                (4, st.from_regex(compile_java_pattern(pattern), fullmatch=True)), (1, sized)
            )
        return sized

    def _blob(self) -> st.SearchStrategy[str]:
        real = st.sampled_from(self.targets.blobs)
        return weighted(
            (6, real.map(lambda b: base64.b64encode(b).decode())),
            (2, st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())),
            (1, st.text(max_size=60)),
        )

    def _named(self, member: str, shape: Shape) -> st.SearchStrategy[Any] | None:
        """Members that name something on the server: mostly real values."""
        t = self.targets
        if member in ("CertificateAuthorityArn", "ResourceArn"):
            return weighted((6, st.sampled_from(t.ca_arns)), (1, self._string(shape)))
        if member == "CertificateArn":
            return weighted((6, st.sampled_from(t.certificate_arns)), (1, self._string(shape)))
        if member == "TemplateArn":
            return weighted((6, st.sampled_from(TEMPLATES)), (1, self._string(shape)))
        if member == "CertificateSerial":
            return st.sampled_from(t.serials) | st.text(
                alphabet="0123456789abcdefABCDEF:", max_size=50
            )
        if member == "S3BucketName":
            return weighted((6, st.sampled_from(t.buckets)), (1, self._string(shape)))
        if member == "CustomPath":
            return st.sampled_from(CUSTOM_PATHS) | self._string(shape)
        if member == "IdempotencyToken":
            return st.sampled_from(["t1", "t2", "t3"]) | self._string(shape)
        return None


# --- whole requests -----------------------------------------------------------------------------


def sign(targets: Targets, body: bytes, target: str | None) -> dict[str, str]:
    """Headers of a request signed exactly as botocore signs one for pica's region."""
    headers = {"Content-Type": CONTENT_TYPE}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=targets.endpoint + "/", data=body, headers=headers)
    credentials = Credentials(targets.access_key, targets.secret_key)
    SigV4Auth(credentials, "acm-pca", targets.region).add_auth(request)
    return dict(request.headers.items())


def api_requests(model: ModelStrategies) -> st.SearchStrategy[HttpRequest]:
    """A signed POST of a model-derived (maybe mangled) body to a (maybe mangled) target."""

    def for_operation(operation: str) -> st.SearchStrategy[HttpRequest]:
        exact = st.just(TARGET_PREFIX + operation)
        mangled = st.sampled_from(
            [TARGET_PREFIX + operation.lower(), operation, TARGET_PREFIX, "ACMPrivateCA.Nope"]
        )
        return st.builds(
            lambda body, target: HttpRequest(
                "POST", "/", sign(model.targets, body, target), body, f"api:{operation}"
            ),
            model.body(operation),
            weighted((15, exact), (1, mangled)),
        )

    return st.one_of([for_operation(operation) for operation in model.operations])


# Header values as an HTTP server hands them over: latin-1 text without line breaks or NUL.
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=80,
)
SIGV4_HEADERS = (
    "Authorization",
    "X-Amz-Date",
    "Date",
    "Host",
    "X-Amz-Target",
    "X-Amz-Content-Sha256",
    "X-Amz-Security-Token",
    "Content-Type",
)


def authorization_values(access_key: str, region: str) -> st.SearchStrategy[str]:
    """Authorization header values assembled from real pieces and junk."""
    pieces = st.sampled_from(
        [
            "AWS4-HMAC-SHA256 ",
            "Credential=",
            access_key,
            "/20260101/",
            region,
            "/acm-pca/aws4_request",
            "eu-west-3",
            ", SignedHeaders=",
            "content-type;host;x-amz-date;x-amz-target",
            ";",
            ", Signature=",
            "0" * 64,
            "=",
        ]
    )
    return st.lists(st.one_of(pieces, HEADER_TEXT), max_size=12).map("".join)


def sigv4_requests(targets: Targets) -> st.SearchStrategy[HttpRequest]:
    """A correctly signed ListCertificateAuthorities whose signature headers are then changed."""
    mutation = st.tuples(
        st.sampled_from(SIGV4_HEADERS),
        st.sampled_from(["replace", "remove", "duplicate"]),
        st.one_of(HEADER_TEXT, authorization_values(targets.access_key, targets.region)),
    )

    def build(mutations: list[tuple[str, str, str]], body: bytes) -> HttpRequest:
        headers = sign(targets, body, TARGET_PREFIX + "ListCertificateAuthorities")
        for name, action, value in mutations:
            key = next((k for k in headers if k.lower() == name.lower()), name)
            if action == "remove":
                headers.pop(key, None)
            elif action == "replace":
                headers[key] = value
            else:
                headers[key] = headers.get(key, value) + ", " + value
        return HttpRequest("POST", "/", headers, body, "sigv4")

    return st.builds(
        build, st.lists(mutation, min_size=1, max_size=3), st.sampled_from([b"{}", b""])
    )


_SEGMENT = st.one_of(
    st.sampled_from(["ocsp", "crl", ".", "..", "%2e%2e", "", "a", "M", "MA", "MIIB", "x.crl"]),
    st.text(max_size=20),
)


def _quoted(path: str) -> str:
    """What http.client can put on a request line: no spaces or controls, the rest kept."""
    return quote(path, safe="/%:@!$&'()*+,;=-._~?")


def get_requests(targets: Targets) -> st.SearchStrategy[HttpRequest]:
    """GETs of OCSP-looking, CRL-looking and arbitrary paths."""
    ocsp_b64 = st.sampled_from(targets.ocsp_requests).map(lambda d: base64.b64encode(d).decode())
    ocsp = st.tuples(st.sampled_from(["/", "/ocsp/", "/a/b/"]), ocsp_b64).map("".join)
    ocsp_mangled = st.tuples(ocsp, st.integers(0, 200), st.text(max_size=4)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
    )
    ca_id = st.sampled_from(targets.ca_ids) | st.uuids().map(str)
    crl = st.one_of(
        st.sampled_from(targets.crl_paths),
        st.builds(
            lambda bucket, prefix, ident: f"/{bucket}/{prefix}/{ident}.crl",
            st.sampled_from(targets.buckets) | st.text(max_size=10),
            st.sampled_from(["crl", "pki/crl", "..", "%2e%2e", "a/b"]),
            ca_id | st.text(max_size=40),
        ),
        st.builds(lambda ident: f"/crl/{ident}.crl", ca_id | st.text(max_size=40)),
    )
    arbitrary = st.lists(_SEGMENT, max_size=8).map(lambda s: "/" + "/".join(s))
    query = st.one_of(st.just(""), st.text(max_size=30).map(lambda q: "?" + q))
    path = st.tuples(st.one_of(ocsp, ocsp_mangled, crl, arbitrary), query).map("".join)
    return path.map(lambda p: HttpRequest("GET", _quoted(p), {}, b"", "get"))


def ocsp_post_requests(targets: Targets) -> st.SearchStrategy[HttpRequest]:
    real = st.sampled_from(targets.ocsp_requests)
    body = st.one_of(
        real,
        st.tuples(real, st.integers(0, 300), st.binary(min_size=1, max_size=4)).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + len(t[2]) :]
        ),
        st.binary(max_size=300),
    )
    return st.builds(
        lambda path, data: HttpRequest(
            "POST", path, {"Content-Type": "application/ocsp-request"}, data, "ocsp-post"
        ),
        st.sampled_from(["/", "/ocsp", "/anything"]),
        body,
    )


def any_request(model: ModelStrategies) -> st.SearchStrategy[HttpRequest]:
    """The mix a long run draws from: mostly API calls."""
    targets = model.targets
    return weighted(
        (14, api_requests(model)),
        (2, sigv4_requests(targets)),
        (3, get_requests(targets)),
        (1, ocsp_post_requests(targets)),
    )
