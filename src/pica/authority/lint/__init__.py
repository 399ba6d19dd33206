"""The lint gate: the certificate pica is about to sign is checked before the CA key signs it.

A certificate that breaks RFC 5280 cannot be recalled once signed (it can only be revoked), so
issuance asks `LintGate.check` about the unsigned `x509.CertificateBuilder` right before the CA
key signs it. A request that would produce a non-conforming certificate is refused with
`InvalidArgs` naming every finding, and nothing is signed.

Two layers, because they cost very different amounts:

- Structural rules (`rules.structural_findings`): the RFC 5280 rules whose violation makes a
  certificate wrong in any PKI (empty subject without a critical SAN, SKI/AKI, the
  basicConstraints/keyUsage/extendedKeyUsage coherence, validity inside the issuer's, the
  serial). They read the TBS once and cost tens of microseconds, so they run on every
  certificate, including the fixed-shape templates' fast path.
- pkilint's PKIX certificate validators (`pkilint_validators`): hundreds of checks over every
  field (general name syntax, policy qualifiers, extension encodings...), two to three
  milliseconds a certificate. They run where the caller shapes the content: passthrough and
  Blank templates and CA certificates (`LintMode.SHAPED`, the default), or on every
  certificate (`LintMode.ALL`).

What a finding does depends on `FindingsMode`. `REFUSE` (the default) refuses on any finding.
`RECORD` signs what AWS Private CA would sign: only the findings that break a rule AWS itself
enforces (`AWS_RULES`: the issuer's notAfter, basicConstraints) still refuse; the others are
handed back to issuance, which records them once the certificate is stored. The rules AWS
enforces outside this gate (path length, name constraints, validity) are checked by issuance
in both modes.

A builder cannot be serialised without signing it, so the gate signs the very same builder with
a throwaway key, as Let's Encrypt's Boulder does before zlint. The issuer name, AKI and every
other TBS field stay the real ones; only the signature is worthless. Neither the structural rules
nor pkilint's certificate validators verify the signature (one pkilint exception is handled in
`tolerances.TOLERATED`), so the findings are those of the certificate the CA key would sign.

One module per noun: `finding` (Finding, AWS_RULES, the refusal message), `gate` (LintGate and
its modes), `throwaway` (the throwaway keys and signature), `tbs` (the TBS fields the rules
read), `rules` (the structural rules), `pkilint_validators` and `tolerances` (pkilint and the
findings it is not trusted with). Import from the module that defines a name.
"""
