"""bench/cost's arithmetic and bench/aws_stub.py's billing units, without building logrelay."""

from __future__ import annotations

import base64
import gzip
import math
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


def test_hub_billed_duration_stretches_cpu_to_the_hubs_256_mb_share():
    # 4 invocations, 0.04 s CPU: 10 ms each, taking 1769/256 as long at 256 MB; the rest of the
    # wall time (file reads, a busy machine) is not the hub's.
    s = harness.Sample(wall_s=0.20, user_s=0.03, sys_s=0.01, max_rss_kb=0, stdout="")
    assert cost.HUB_MEMORY_MB == 256
    assert cost.hub_billed_ms(s, 4) == math.ceil(10 * 1769 / 256)
    assert cost.hub_billed_ms(s, 0.5) == math.ceil(80 * 1769 / 256)


def test_kinesis_event_files_hold_what_one_invocation_takes(tmp_path):
    records = [bytes([i % 256]) * 40_000 for i in range(400)]
    files, per = harness.write_kinesis_events(records, str(tmp_path / "k"))
    # 40 kB records, base64 and JSON around them: about 112 per 6 MB invocation payload.
    assert 100 <= per <= 120 and len(files) == math.ceil(400 / per)
    back = []
    for f in files:
        assert Path(f).stat().st_size <= harness.INVOKE_PAYLOAD_BYTES
        back += [base64.b64decode(r["kinesis"]["data"]) for r in json.loads(Path(f).read_text())["Records"]]
    assert back == records
    files, per = harness.write_kinesis_events([b"x"] * 1200, str(tmp_path / "small"))
    assert per == harness.HUB_BATCH_SIZE and len(files) == 3


def test_the_topologies_pay_the_stream_once_when_both_run():
    usd_src = {"lambda_requests": 1.0, "lambda_duration": 2.0, "put_metric_data": 0.0, "emf_ingestion": 0.5,
               "kds_on_demand_data": 10.0, "kds_provisioned_ppu": 0.2}
    usd_src["total_on_demand"] = 13.5
    usd_src["total_provisioned"] = 3.7
    src = {"set": "small", "format": "cwl", "metrics": "emf", "usd_per_tb": usd_src}
    usd_hub = {"kds_on_demand_data": 10.0, "kds_on_demand_retrieval": 5.0, "kds_provisioned_ppu": 0.2,
               "hub_requests": 0.01, "hub_duration": 0.04, "hub_emf_ingestion": 0.5}
    usd_hub["total_on_demand"] = 15.55
    usd_hub["total_provisioned"] = 0.75
    hub = {"set": "small", "events_per_payload": 500, "invocations": 10, "uncompressed_bytes": 10**12,
           "billed_ms": 12, "records_per_invocation": 143, "usd_per_tb": usd_hub}
    lines = cost.topology_lines([src], [hub])
    rows = [l for l in lines if l.startswith("| 500 |")]
    assert [r.split(" | ")[1] for r in rows] == ["source functions", "hub (CloudWatch Logs destinations)", "both"]
    assert "**$13.50**" in rows[0] and "**$15.55**" in rows[1]
    # Both: the source functions' total, plus the hub's reads, Lambda and EMF (the data in once).
    assert "**$19.05**" in rows[2] and "**$4.25**" in rows[2]
