"""Load botocore's acm-pca service model, the machine-readable specification of the API.

pica does not keep its own copy of the operations, shapes and constraints: the model that ships
with the pinned botocore is exactly what boto3 and the aws CLI use to build requests, so
validating against it keeps server and clients in agreement by construction.
"""

from __future__ import annotations

import functools

from botocore.loaders import Loader
from botocore.model import ServiceModel

SERVICE_NAME = "acm-pca"
API_VERSION = "2017-08-22"


@functools.cache
def load_service_model() -> ServiceModel:
    """Return the acm-pca ServiceModel of the installed botocore (parsed once per process).

    The API version is pinned rather than "latest" so that a botocore that someday ships a newer
    acm-pca API cannot silently change the contract pica implements.
    """
    loader = Loader()
    model_data = loader.load_service_model(SERVICE_NAME, "service-2", api_version=API_VERSION)
    return ServiceModel(model_data, service_name=SERVICE_NAME)
