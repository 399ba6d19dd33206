"""OCSP (RFC 6960, RFC 5019 profile): one module per noun.

`responder` (OcspResponder, the entry point) answers a DER request: `request` parses it,
`issuers` finds the CA it names, `delegation` keeps delegated responder certificates,
`signature` signs the response, and `answer` is what the HTTP layer (wire/ocsp_http.py) gets
back. Import from the module that defines a name.
"""
