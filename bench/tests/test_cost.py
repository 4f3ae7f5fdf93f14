"""bench/cost's arithmetic and bench/aws_stub.py's billing units, without building logrelay."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
import importlib.util
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))
_loader = SourceFileLoader("bench_cost", str(BENCH / "cost"))
_spec = importlib.util.spec_from_loader("bench_cost", _loader)
cost = importlib.util.module_from_spec(_spec)
_loader.exec_module(cost)
import harness  # noqa: E402


def test_billed_duration_stretches_cpu_to_a_128_mb_share_and_rounds_up():
    # 10 invocations, 0.30 s wall of which 0.01 s CPU: 29 ms waiting + 1 ms CPU each;
    # the CPU millisecond takes 1769/128 ms at 128 MB.
    s = harness.Sample(wall_s=0.30, user_s=0.008, sys_s=0.002, max_rss_kb=0, stdout="")
    assert cost.billed_ms(s, 10) == pytest.approx(29 + 1 * 1769 / 128, abs=1)
    assert cost.billed_ms(s, 10) == int(cost.billed_ms(s, 10))


def test_a_thousand_filters_are_scoped_ten_per_group_over_a_hundred_groups():
    f100 = {"metricFilters": [{"filterName": f"f{i}", "filterPattern": f"p{i}", "metricTransformations": []}
                              for i in range(100)]}
    groups = [f"/g/{i}" for i in range(100)]
    out = cost.scoped_1000(f100, groups)["metricFilters"]
    assert len(out) == 1000
    assert len({f["filterName"] for f in out}) == 1000
    per_group = {}
    for f in out:
        per_group.setdefault(f["logGroupName"], []).append(f["filterPattern"])
    assert sorted(per_group) == sorted(groups)
    assert all(len(p) == 10 for p in per_group.values())
    assert {f["filterPattern"] for f in out} == {f"p{i}" for i in range(100)}


def test_chart_is_valid_svg_with_a_line_per_filter_count():
    rows = [{"filters": int(f), "events_per_payload": s, "us_per_event": (1 + int(f) / 100) * (1 + 10 / s)}
            for f in cost.FILTERS for s in cost.SIZES]
    root = ET.fromstring(cost.svg(rows))
    lines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == len(cost.FILTERS)
    assert all(len(pl.get("points").split()) == len(cost.SIZES) for pl in lines)


@pytest.fixture()
def stub(tmp_path):
    port_file = tmp_path / "url"
    proc = subprocess.Popen([sys.executable, str(BENCH / "aws_stub.py"), "--port-file", str(port_file),
                             "--latency-ms", "1"])
    for _ in range(100):
        if port_file.exists():
            break
        time.sleep(0.05)
    yield port_file.read_text()
    proc.terminate()
    proc.wait()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read()


def test_stub_counts_kinesis_billing_units_and_putmetricdata_calls(stub):
    records = [{"Data": base64.b64encode(b"x" * n).decode(), "PartitionKey": "k"} for n in (10, 1023, 1024, 30_000)]
    status, body = post(stub, json.dumps({"StreamARN": "arn", "Records": records}).encode(),
                        {"X-Amz-Target": "Kinesis_20131202.PutRecords", "Content-Type": "application/x-amz-json-1.1"})
    assert status == 200 and json.loads(body)["FailedRecordCount"] == 0
    form = urllib.parse.urlencode({"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": "N",
                                   "MetricData.member.1.MetricName": "A", "MetricData.member.2.MetricName": "B"})
    status, _ = post(stub, gzip.compress(form.encode()), {"Content-Type": "application/x-www-form-urlencoded",
                                                          "Content-Encoding": "gzip"})
    assert status == 200
    stats = cost.stub_stats(stub)
    # Sizes with the 1-byte key: 11, 1024, 1025, 30001 bytes -> 1 + 1 + 2 + 30 KB; 1 + 1 + 1 + 2 PUT units.
    assert stats["put_records_calls"] == 1 and stats["records"] == 4
    assert stats["record_bytes"] == 11 + 1024 + 1025 + 30_001
    assert stats["ingest_kb"] == 1 + 1 + 2 + 30
    assert stats["put_payload_units"] == 1 + 1 + 1 + 2
    assert stats["put_metric_data_calls"] == 1 and stats["datums"] == 2
