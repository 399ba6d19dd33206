"""The domain: CA lifecycle, issuance, revocation. Imports no web framework, driver or adapter."""
