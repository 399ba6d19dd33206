"""Object-store adapters: where pica publishes CRLs (and later audit reports).

`LocalDirObjectStore` keeps objects as files under one directory that pica itself serves over
HTTP (the default: nothing else to run); `S3ObjectStore` writes to AWS S3 or any S3-compatible
store (for several nodes, or to serve CRLs from a bucket the way AWS ACM PCA does). Both implement
`pica.authority.ports.ObjectStore` and use the AWS layout (`crl/<CA_ID>.crl`).
"""
