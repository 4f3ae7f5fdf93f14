"""The README's parameter tables describe exactly the templates' parameters, with their defaults."""

from __future__ import annotations

import json
import os
import re

import pytest

from cfn_render import ACCOUNT_ID, REGION, ROOT, load, render, statements


def readme_section(start: str, end: str, path: str = "README.md") -> str:
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        text = f.read()
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


# Parameters documented in a page of docs/ instead of the README: (template, page, section start, end).
DOCS_TABLES = [
    ("deploy/central.yaml", "docs/hub.md", "## Parameters", "## Retries, duplicates and what is lost"),
]


def table(section: str) -> dict[str, str]:
    """`| parameter | default | meaning |` rows as {parameter: default}."""
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| `([A-Za-z0-9]+)` \| ([^|]*) \|", line)
        if m:
            rows[m.group(1)] = m.group(2).strip()
    return rows


def shown_default(value: object) -> str:
    return "*(empty)*" if str(value) == "" else f"`{value}`"


@pytest.mark.parametrize("template, start, end", [
    ("template.yaml", "#### Parameters", "#### What the stack creates"),
    ("deploy/central.yaml", "### 1. Central account: the stream", "#### Bringing your own key"),
])
def test_the_readme_lists_every_parameter_with_its_default(template, start, end):
    declared = load(template)["Parameters"]
    documented = table(readme_section(start, end))
    for t, page, page_start, page_end in DOCS_TABLES:
        if t == template:
            documented.update(table(readme_section(page_start, page_end, page)))
    assert sorted(documented) == sorted(declared)
    for name, spec in declared.items():
        assert documented[name] == shown_default(spec.get("Default", "")), name


def test_the_key_policy_statement_for_a_key_you_bring_is_the_one_the_stack_writes():
    section = readme_section("#### Bringing your own key", "#### Archive to S3")
    (block,) = re.findall(r"```json\n(.*?)```", section, re.S)
    documented = json.loads(
        block.replace("REGION", REGION).replace("CENTRAL_ACCOUNT", ACCOUNT_ID))
    rendered = render("deploy/central.yaml", {"SourceAccountIds": "111111111111,222222222222"})
    (written,) = [s for s in statements(rendered.resources["StreamKey"]["Properties"]["KeyPolicy"])
                  if s["Sid"] != "ThisAccount"]
    documented["Action"] = [documented["Action"]]
    documented["Resource"] = [documented["Resource"]]
    written = {k: v for k, v in written.items() if k != "Sid"}
    assert {k: v for k, v in documented.items() if k != "Sid"} == written
