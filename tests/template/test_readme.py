"""The deploy guide's parameter tables describe exactly the templates' parameters, with their defaults."""

from __future__ import annotations

import json
import os
import re

import pytest

from cfn_render import ACCOUNT_ID, REGION, ROOT, load, render, statements


def guide_section(start: str, end: str) -> str:
    with open(os.path.join(ROOT, "docs", "deploy.md"), encoding="utf-8") as f:
        text = f.read()
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


def table(section: str) -> dict[str, str]:
    """`| parameter | default | meaning |` rows as {parameter: default}."""
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| `([A-Za-z0-9]+)` \| ([^|]*) \|", line)
        if m:
            rows[m.group(1)] = m.group(2).strip()
    return rows


def docs_tables(template: str) -> dict[str, str]:
    """Rows of the parameter tables in docs/*.md between `<!-- parameters: TEMPLATE -->` and
    `<!-- end parameters -->` (the parameters a page documents in its own context)."""
    rows: dict[str, str] = {}
    docs = os.path.join(ROOT, "docs")
    for name in sorted(os.listdir(docs)):
        if name.endswith(".md"):
            with open(os.path.join(docs, name), encoding="utf-8") as f:
                text = f.read()
            for block in re.findall(rf"<!-- parameters: {re.escape(template)} -->(.*?)<!-- end parameters -->",
                                    text, re.S):
                found = table(block)
                assert not set(found) & set(rows), f"docs/{name} documents {set(found) & set(rows)} twice"
                rows |= found
    return rows


def shown_default(value: object) -> str:
    return "*(empty)*" if str(value) == "" else f"`{value}`"


@pytest.mark.parametrize("template, start, end", [
    ("template.yaml", "### Parameters", "### What the stack creates"),
    ("deploy/central.yaml", "## 1. Central account: the stream", "### Bringing your own key"),
])
def test_the_deploy_guide_lists_every_parameter_with_its_default(template, start, end):
    declared = load(template)["Parameters"]
    documented = table(guide_section(start, end)) | docs_tables(template)
    assert sorted(documented) == sorted(declared)
    for name, spec in declared.items():
        assert documented[name] == shown_default(spec.get("Default", "")), name


def test_the_key_policy_statement_for_a_key_you_bring_is_the_one_the_stack_writes():
    section = guide_section("### Bringing your own key", "### Archive to S3")
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
