"""The sizes pica copies from AWS Private CA, each defined once.

The domain's value types default to them and `pica.settings` offers them as the defaults of
the settings that change them, so `pica serve --help` shows the number the domain applies.
This module imports nothing, so reading settings stays cheap.
"""

from __future__ import annotations

# AWS's default quota of certificate authorities per account and region (setting
# max_cas_per_account); CreateCertificateAuthority beyond it is LimitExceededException.
MAX_CAS_PER_ACCOUNT = 200

# Certificates per partition of a PARTITIONED CRL (setting crl_partition_size): each issued
# certificate's CDP names the partition its issuance sequence number falls in.
CRL_PARTITION_SIZE = 100_000
