"""The README's table of contents lists every section, in order, with links GitHub resolves."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def sections(text: str) -> list[str]:
    body = re.sub(r"```.*?```", "", text, flags=re.S)  # a '#' inside a code block is no heading
    return [line[3:].strip() for line in body.splitlines() if line.startswith("## ") and line[3:].strip() != "Contents"]


def test_the_contents_list_every_section_in_order():
    text = README.read_text(encoding="utf-8")
    contents = text.split("## Contents\n", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^- \[(.+?)\]\(#([^)]+)\)$", contents, flags=re.M)
    assert [title for title, _ in listed] == sections(text)
    assert all(anchor == slug(title) for title, anchor in listed)


def test_the_readme_starts_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[2] == "```sh"
    assert lines[3].endswith(".venv/bin/pytest conformance")
    assert lines[4].endswith(".venv/bin/pytest -n 4")
    assert lines[5] == "```"
