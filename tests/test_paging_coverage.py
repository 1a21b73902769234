"""Every list the contract pages is paged by at least one suite test, and the walk checks each page."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

import conformance.suites
from conformance.contract.schemas import shipped
from conformance.suites.generic.generated import module_tests
from conformance.suites.paging import PAGES_ATTRIBUTE, link_problems, paged_lists


def paging_tests() -> dict[str, list[str]]:
    """operationId -> the suite tests that page it (those marked with ``paging.pages``)."""
    found: dict[str, list[str]] = {}
    for info in pkgutil.iter_modules(conformance.suites.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"conformance.suites.{info.name}")
        for name, test in module_tests(module).items():
            for op_id in getattr(test, PAGES_ATTRIBUTE, ()):
                found.setdefault(op_id, []).append(f"{info.name}::{name}")
    return found


def test_paged_lists_are_the_operations_whose_query_declares_page_cursors() -> None:
    declared = {op_id for op_id, op in shipped().operations.items() if op.parameter("page", "query") is not None}
    assert set(paged_lists()) == declared
    # Sizes and both cursors, as the contract's page object declares them.
    assert all(members == {"after", "before", "size"} for members in paged_lists().values())
    # A list without page parameters is not paged: it answers everything at once.
    assert "ListUsers" not in paged_lists()
    assert "ListWebhooks" not in paged_lists()


@pytest.mark.parametrize("operation_id", sorted(paged_lists()))
def test_paged_list_operation_is_paged_by_a_suite_test(operation_id: str) -> None:
    assert paging_tests().get(operation_id), f"{operation_id} is paged by the contract but by no suite test"


def test_every_operation_a_test_says_it_pages_is_a_paged_list() -> None:
    assert set(paging_tests()) <= set(paged_lists())


SENT = {"page[size]": "2", "filter[userId]": "u1"}
URL = "https://api.example.com/v2/apps/a1/conversations?page%5Bsize%5D=2&filter%5BuserId%5D=u1"


@pytest.mark.parametrize(
    ("link", "wrong"),
    [
        ("https://api.example.com/v2/apps/a1/conversations?page[size]=2&filter[userId]=u1&page[after]=c9", {}),
        ("/v2/apps/a1/conversations?filter%5BuserId%5D=u1&page%5Bafter%5D=c9&page%5Bsize%5D=2", {}),
        ("/v2/apps/a1/conversations?page[size]=2&filter[userId]=u1&page[after]=c8", {"page[after]": "c8"}),
        # The vendor's example links leave page[size] out; a link under another host and prefix is the same list.
        ("/v2/apps/a1/conversations?filter[userId]=u1&page[after]=c9", {}),
        ("https://sub.zendesk.com/sc/v2/apps/a1/conversations?filter[userId]=u1&page[after]=c9", {}),
        ("/v2/apps/a1/conversations?page[size]=2&page[after]=c9", {"filter[userId]": None}),
        ("/v2/apps/a1/users?page[size]=2&filter[userId]=u1&page[after]=c9", {"path": "/v2/apps/a1/users"}),
    ],
)
def test_a_next_link_must_name_the_list_its_filters_and_the_cursor(link: str, wrong: dict[str, Any]) -> None:
    assert link_problems(link, URL, SENT, "page[after]", "c9") == wrong
