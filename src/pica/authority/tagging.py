"""Tag rules: at most 50 per CA, keys unique, the `aws:` prefix reserved for AWS."""

from __future__ import annotations

from pica.authority.model import Tag
from pica.errors import InvalidArgs, InvalidTag, TooManyTags

MAX_TAGS = 50


def check_tags(tags: list[Tag]) -> None:
    for tag in tags:
        if tag.key.lower().startswith("aws:"):
            raise InvalidTag(f"Tag key {tag.key!r} uses the reserved prefix 'aws:'.")


def check_initial_tags(tags: list[Tag]) -> None:
    """The tags a CA is created with: `check_tags`, and each key at most once.

    TagCertificateAuthority, by contrast, lets a later value of a key overwrite an earlier one
    (`merged`).
    """
    check_tags(tags)
    if len({tag.key for tag in tags}) != len(tags):
        raise InvalidArgs("Tag keys must be unique.")


def merged(existing: list[Tag], added: list[Tag]) -> list[Tag]:
    """Add or overwrite tags; the result keeps the first position of each key."""
    check_tags(added)
    by_key = {tag.key: tag for tag in existing}
    order = [tag.key for tag in existing]
    for tag in added:
        if tag.key not in by_key:
            order.append(tag.key)
        by_key[tag.key] = tag
    if len(order) > MAX_TAGS:
        raise TooManyTags(
            f"A certificate authority can have at most {MAX_TAGS} tags; this request would "
            f"leave it with {len(order)}."
        )
    return [by_key[key] for key in order]


def without(existing: list[Tag], removed: list[Tag]) -> list[Tag]:
    """Remove tags: a tag without a value removes the key, one with a value only on a match."""
    check_tags(removed)
    remaining = []
    for tag in existing:
        drop = any(r.key == tag.key and (r.value is None or r.value == tag.value) for r in removed)
        if not drop:
            remaining.append(tag)
    return remaining
