"""The AWS JSON 1.1 face of pica: the acm-pca API as boto3 and the aws CLI speak it.

`POST /` with `X-Amz-Target: ACMPrivateCA.<Operation>`, SigV4-signed for service `acm-pca`.
botocore's own service model is the specification: it drives input validation, and botocore's
own signer recomputes request signatures.
"""
