"""Every page of a DynamoDB Query or Scan, written once.

The tables are boto3 resources (Table): they take the Key and Attr conditions and return plain
Python values. boto3's paginators exist only on clients, which take neither (typed attribute
values in and out), so the resource's LastEvaluatedKey loop lives here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any


def items(call: Callable[..., Mapping[str, Any]], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """The items of `call(**kwargs)` (a Table's query or scan; DynamoDB returns at most 1 MB, or
    Limit items, a page), page after page. Pages are read as the items are consumed: a caller
    that stops early reads no further page."""
    while True:
        page = call(**kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
