"""ACM certificate ARNs: `arn:<partition>:acm:<region>:<account>:certificate/<uuid>`."""

from __future__ import annotations

import re
import uuid

from pica.errors import InvalidArn

_ARN = re.compile(
    r"arn:[\w-]+:acm:[\w-]*:\d{12}:certificate/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def new_certificate_arn(partition: str, region: str, account_id: str) -> str:
    return f"arn:{partition}:acm:{region}:{account_id}:certificate/{uuid.uuid4()}"


def check_certificate_arn(arn: str) -> str:
    if _ARN.fullmatch(arn) is None:
        raise InvalidArn(f"The ARN {arn} is not a valid ACM certificate ARN.")
    return arn
