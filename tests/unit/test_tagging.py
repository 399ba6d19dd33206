"""tagging: at most 50 tags a CA, the `aws:` prefix reserved, keys unique at creation."""

from __future__ import annotations

import pytest

from pica.authority.model import Tag
from pica.authority.tagging import MAX_TAGS, check_initial_tags, check_tags, merged, without
from pica.errors import InvalidArgs, InvalidTag, TooManyTags


def test_tags_merge_overwrite_and_remove() -> None:
    tags = merged([Tag("a", "1"), Tag("b")], [Tag("a", "2"), Tag("c", "3")])
    assert tags == [Tag("a", "2"), Tag("b"), Tag("c", "3")]
    assert without(tags, [Tag("a", "wrong"), Tag("b")]) == [Tag("a", "2"), Tag("c", "3")]


def test_a_later_value_of_a_key_wins_when_tagging() -> None:
    assert merged([], [Tag("a", "1"), Tag("a", "2")]) == [Tag("a", "2")]


@pytest.mark.parametrize("key", ["aws:reserved", "AWS:Reserved"])
def test_the_aws_prefix_is_reserved_whatever_its_case(key: str) -> None:
    for check in (check_tags, check_initial_tags):
        with pytest.raises(InvalidTag, match="reserved prefix"):
            check([Tag(key, "x")])
    with pytest.raises(InvalidTag):
        merged([], [Tag(key, "x")])
    with pytest.raises(InvalidTag):
        without([], [Tag(key)])


def test_at_most_50_tags() -> None:
    fifty = [Tag(str(i)) for i in range(MAX_TAGS)]
    assert len(merged(fifty[:-1], fifty[-1:])) == MAX_TAGS
    assert merged(fifty, [Tag("0", "overwritten")])[0] == Tag("0", "overwritten")
    with pytest.raises(TooManyTags, match="at most 50 tags; this request would leave it with 51"):
        merged(fifty, [Tag("one-more")])


def test_initial_tags_name_each_key_once() -> None:
    check_initial_tags([Tag("a", "1"), Tag("b", "1")])
    with pytest.raises(InvalidArgs, match="Tag keys must be unique"):
        check_initial_tags([Tag("a", "1"), Tag("a", "2")])
