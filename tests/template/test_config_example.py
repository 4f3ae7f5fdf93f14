"""config/metric-filters.json: the example shipped in the metric-filter layer.

Checks the shape `aws logs describe-metric-filters` prints plus logrelay's extensions, and the rules the
function's loader enforces (as CloudWatch does), so that the example deploys without a cold-start error.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from cfn_render import ROOT

EXAMPLE = os.path.join(ROOT, "config", "metric-filters.json")

FILTER_KEYS = {"filterName", "filterPattern", "metricTransformations", "logGroupName", "logGroupNamePrefix",
               "creationTime", "applyOnTransformedLogs"}
TRANSFORMATION_KEYS = {"metricName", "metricNamespace", "metricValue", "defaultValue", "dimensions", "unit"}
# CloudWatch's standard units (PutMetricData StandardUnit).
UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
         "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
         "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
         "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
         "Count/Second", "None"}
PAYLOAD_DIMENSIONS = {"@logGroup", "@logStream", "@owner"}


def filters():
    with open(EXAMPLE, encoding="utf-8") as f:
        document = json.load(f)
    assert set(document) == {"metricFilters"}
    return document["metricFilters"]


def space_delimited_fields(pattern: str) -> list[str] | None:
    if not (pattern.startswith("[") and pattern.endswith("]")):
        return None
    specs = [s.strip() for s in pattern[1:-1].split(",")]
    return [re.match(r"[A-Za-z0-9_-]+", s).group(0) for s in specs if s and s != "..."]


def check_reference(pattern: str, reference: str) -> None:
    """A metric value or dimension must name something the pattern extracts."""
    if reference.startswith("$."):
        assert pattern.startswith("{"), f"{reference} needs a JSON pattern, not {pattern!r}"
    elif reference.startswith("$"):
        fields = space_delimited_fields(pattern)
        assert fields is not None, f"{reference} needs a space-delimited pattern, not {pattern!r}"
        name = reference[1:]
        assert name in fields or name.isdigit(), f"{reference} is not a field of {pattern!r}"
    else:
        raise AssertionError(f"not a field reference: {reference!r}")


@pytest.mark.parametrize("f", filters(), ids=lambda f: f["filterName"])
def test_filter_follows_the_describe_metric_filters_shape_and_cloudwatch_rules(f):
    assert set(f) <= FILTER_KEYS, f"unknown keys {set(f) - FILTER_KEYS}"
    assert 1 <= len(f["filterName"]) <= 512 and not set(":*") & set(f["filterName"])
    assert len(f["filterPattern"]) <= 1024
    assert not ("logGroupName" in f and "logGroupNamePrefix" in f)
    assert f.get("applyOnTransformedLogs", False) is False
    (t,) = f["metricTransformations"]
    assert set(t) <= TRANSFORMATION_KEYS and {"metricName", "metricNamespace", "metricValue"} <= set(t)
    assert isinstance(t["metricValue"], str)
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", t["metricValue"]):
        check_reference(f["filterPattern"], t["metricValue"])
    dimensions = t.get("dimensions", {})
    assert len(dimensions) <= 3
    assert not (dimensions and "defaultValue" in t), "CloudWatch rejects defaultValue with dimensions"
    for value in dimensions.values():
        if value not in PAYLOAD_DIMENSIONS:
            check_reference(f["filterPattern"], value)
    if "unit" in t:
        assert t["unit"] in UNITS


def test_names_are_unique():
    names = [f["filterName"] for f in filters()]
    assert len(names) == len(set(names))


def test_example_covers_the_documented_cases():
    by_pattern = {f["filterPattern"]: f for f in filters()}
    ecs_errors = [f for f in filters() if "ERROR" in f["filterPattern"] and
                  (f.get("logGroupName", "") + f.get("logGroupNamePrefix", "")).startswith("/ecs/")]
    assert ecs_errors, "an ECS application ERROR count"
    latency = by_pattern["{ $.latency = * }"]["metricTransformations"][0]
    assert latency["metricValue"] == "$.latency" and latency["dimensions"]
    access = [f for f in filters() if space_delimited_fields(f["filterPattern"]) and "5*" in f["filterPattern"]]
    assert access, "a space-delimited access-log 5xx count"


def test_deploy_guide_allows_the_examples_namespaces():
    """The example publishes to namespaces beyond the default; the guide's command must allow them."""
    namespaces = {f["metricTransformations"][0]["metricNamespace"] for f in filters()} - {"LogRelay"}
    with open(os.path.join(ROOT, "docs", "deploy.md"), encoding="utf-8") as f:
        guide = f.read()
    allowed = re.search(r"AdditionalMetricNamespaces=([A-Za-z0-9/_.,-]+)", guide)
    assert allowed, "docs/deploy.md shows no AdditionalMetricNamespaces for the metric-filter file"
    assert namespaces <= set(allowed.group(1).split(","))
