"""Load botocore's service models, the machine-readable specification of the APIs pica serves.

pica does not keep its own copy of the operations, shapes and constraints: the models that ship
with the pinned botocore are exactly what boto3 and the aws CLI use to build requests, so
validating against them keeps server and clients in agreement by construction.
"""

from __future__ import annotations

import functools

from botocore.loaders import Loader
from botocore.model import ServiceModel

SERVICE_NAME = "acm-pca"
API_VERSION = "2017-08-22"
ACM_SERVICE_NAME = "acm"
ACM_API_VERSION = "2015-12-08"

# The API versions pica implements, by botocore service name.
API_VERSIONS = {SERVICE_NAME: API_VERSION, ACM_SERVICE_NAME: ACM_API_VERSION}


@functools.cache
def load_service_model(service_name: str = SERVICE_NAME) -> ServiceModel:
    """Return the ServiceModel of the installed botocore (parsed once per process): acm-pca by
    default, or `acm`.

    The API version is pinned rather than "latest" so that a botocore that someday ships a newer
    API cannot silently change the contract pica implements.
    """
    loader = Loader()
    model_data = loader.load_service_model(
        service_name, "service-2", api_version=API_VERSIONS[service_name]
    )
    return ServiceModel(model_data, service_name=service_name)
