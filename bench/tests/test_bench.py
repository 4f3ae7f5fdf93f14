"""Tests of the benchmark itself: generator, ground truth, peers, floor, harness and report.

Run with ``bench/.venv/bin/python -m pytest bench/tests`` (``bench/run`` creates the venv). The floor
test needs the release example (``cargo build --release --example inflate_floor``; set
``INFLATE_FLOOR`` or ``CARGO_TARGET_DIR`` to find it) and is skipped without it.
"""

from __future__ import annotations

import base64
import glob
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

import gen  # noqa: E402
import harness  # noqa: E402
import report  # noqa: E402

FAKE = os.path.join(BENCH, "tests", "fake_logrelay.py")


def floor_binary() -> str | None:
    if os.environ.get("INFLATE_FLOOR"):
        return os.environ["INFLATE_FLOOR"]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    path = os.path.join(target, "release", "examples", "inflate_floor")
    return path if os.access(path, os.X_OK) else None


@pytest.fixture(scope="session")
def data(tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("data") / "d")
    assert gen.main(["--out", out, "--total-mb", "4", "--small-events", "200", "--large-events", "2000",
                     "--jobs", "2"]) == 0
    return out


def decode(path: str) -> dict:
    with open(path, "rb") as fh:
        event = json.load(fh)
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))


def digest(directory: str) -> str:
    h = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(directory, "*", "*.json"))):
        with open(path, "rb") as fh:
            h.update(os.path.relpath(path, directory).encode() + fh.read())
    return h.hexdigest()


# -------------------------------------------------------------------------------------------------
# Generator
# -------------------------------------------------------------------------------------------------


def test_generator_is_deterministic_whatever_the_parallelism(data, tmp_path):
    again = str(tmp_path / "again")
    assert gen.main(["--out", again, "--total-mb", "4", "--small-events", "200", "--large-events", "2000",
                     "--jobs", "1"]) == 0
    assert digest(again) == digest(data)
    with open(os.path.join(again, "truth.json")) as a, open(os.path.join(data, "truth.json")) as b:
        assert json.load(a) == json.load(b)


def test_payloads_have_the_cloudwatch_logs_shape(data):
    groups = set()
    multiline = 0
    for set_name, per_payload in (("small", 200), ("large", 2000)):
        files = sorted(glob.glob(os.path.join(data, set_name, "*.json")))
        first = decode(files[0])
        assert first["messageType"] == "CONTROL_MESSAGE"
        for path in files[1:]:
            doc = decode(path)
            assert set(doc) == {"messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents"}
            assert doc["messageType"] == "DATA_MESSAGE"
            assert re.fullmatch(r"\d{12}", doc["owner"])
            assert doc["subscriptionFilters"] == ["central-forwarder"]
            assert len(doc["logEvents"]) == per_payload
            groups.add(doc["logGroup"])
            if doc["logGroup"].startswith("/ecs/"):
                assert re.fullmatch(r"ecs/(orders|django-admin)/[0-9a-f]{32}", doc["logStream"])
            previous = 0
            for e in doc["logEvents"]:
                assert set(e) == {"id", "timestamp", "message"}
                assert isinstance(e["id"], str) and re.fullmatch(r"\d{56}", e["id"])
                assert isinstance(e["timestamp"], int) and e["timestamp"] >= previous
                assert 1_700_000_000_000 < e["timestamp"] < 1_900_000_000_000
                previous = e["timestamp"]
                multiline += "\n\tat " in e["message"] or "Traceback (most recent call last)" in e["message"]
    assert groups == {gen.ORDERS, gen.CHECKOUT, gen.ACCESS, gen.DJANGO}
    assert multiline > 0


def test_payloads_are_gzip_level_6(data):
    path = sorted(glob.glob(os.path.join(data, "small", "*.json")))[1]
    with open(path, "rb") as fh:
        packed = base64.b64decode(json.load(fh)["awslogs"]["data"])
    assert packed[:2] == b"\x1f\x8b"
    raw = gzip.decompress(packed)
    assert gzip.compress(raw, compresslevel=6, mtime=0) == packed


def test_truth_matches_an_independent_recount(data):
    with open(os.path.join(data, "truth.json")) as fh:
        truth = json.load(fh)
    for set_name, t in truth["sets"].items():
        events = errors = json_errors = access_5xx = raw_bytes = 0
        files = sorted(glob.glob(os.path.join(data, set_name, "*.json")))
        for path in files:
            doc = decode(path)
            raw_bytes += len(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())
            if doc["messageType"] != "DATA_MESSAGE":
                continue
            for e in doc["logEvents"]:
                m = e["message"]
                events += 1
                errors += "ERROR" in m
                if m.startswith("{") and json.loads(m).get("level") == "ERROR":
                    json_errors += 1
                if doc["logGroup"] == gen.ACCESS and m.split('" ')[1].split(" ")[0].startswith("5"):
                    access_5xx += 1
        assert len(files) == t["payloads"]
        assert events == t["events"]
        assert errors == t["error_events"] == truth["expected_metrics"]["error"][set_name]["ErrorCount"]
        assert json_errors == truth["expected_metrics"]["json"][set_name]["JsonErrorCount"]
        assert access_5xx == truth["expected_metrics"]["space"][set_name]["Http5xxCount"]
        assert raw_bytes == t["uncompressed_bytes"]
        assert errors > 0 and json_errors > 0


def test_configs_are_describe_metric_filters_documents(data):
    with open(os.path.join(data, "configs", "f100.json")) as fh:
        filters = json.load(fh)["metricFilters"]
    assert len(filters) == 100
    assert len({f["filterName"] for f in filters}) == 100
    kinds = {"{": 0, "[": 0, "term": 0}
    for f in filters:
        assert set(f) <= {"filterName", "filterPattern", "metricTransformations", "creationTime", "logGroupName"}
        assert 0 < len(f["filterPattern"]) <= 1024
        (t,) = f["metricTransformations"]
        assert t["metricNamespace"] == "Bench" and t["metricName"] and isinstance(t["metricValue"], str)
        kinds[f["filterPattern"][0] if f["filterPattern"][0] in "{[" else "term"] += 1
    assert min(kinds.values()) >= 10
    with open(os.path.join(data, "truth.json")) as fh:
        expected = json.load(fh)["expected_metrics"]["f100"]["small"]
    matching = [name for name, v in expected.items() if v]
    assert 5 <= len(matching) <= 30  # a realistic set: most filters never match


# -------------------------------------------------------------------------------------------------
# Peers and floor
# -------------------------------------------------------------------------------------------------


def run_peer(script: str, files: list[str], *extra: str) -> dict:
    out = subprocess.run([sys.executable, os.path.join(BENCH, "peers", script), *extra, *files],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("script", ["powertools_forwarder.py", "stdlib_forwarder.py"])
def test_peers_match_the_ground_truth(data, script):
    pytest.importorskip("aws_lambda_powertools")
    with open(os.path.join(data, "truth.json")) as fh:
        truth = json.load(fh)
    for set_name, t in truth["sets"].items():
        files = sorted(glob.glob(os.path.join(data, set_name, "*.json")))
        s = run_peer(script, files)
        assert harness.check_counts(s, t) == []
        assert harness.check_metrics(s, "Bench", {"ErrorCount": t["error_events"]}) == []
        assert s["records"] == t["events"]


def test_peers_build_identical_ndjson_records(data, tmp_path):
    pytest.importorskip("aws_lambda_powertools")
    files = sorted(glob.glob(os.path.join(data, "small", "*.json")))[:4]
    a, b = tmp_path / "a", tmp_path / "b"
    run_peer("powertools_forwarder.py", files, "--records-out", str(a))
    run_peer("stdlib_forwarder.py", files, "--records-out", str(b))
    names = sorted(os.listdir(a))
    assert names == sorted(os.listdir(b)) and names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    first = (a / names[0]).read_bytes().split(b"\n")[0]
    record = json.loads(first)
    assert list(record) == ["owner", "logGroup", "logStream", "id", "timestamp", "message"]
    doc = decode(files[1])
    assert record["message"] == doc["logEvents"][0]["message"]
    assert b", " not in first[:60]  # compact separators


def test_peer_names_the_file_it_cannot_read(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"awslogs": {"data": "not base64!"}}')
    out = subprocess.run([sys.executable, os.path.join(BENCH, "peers", "stdlib_forwarder.py"), str(bad)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 1 and str(bad) in out.stderr


def test_floor_counts_every_uncompressed_byte(data):
    binary = floor_binary()
    if not binary:
        pytest.skip("inflate_floor example not built")
    with open(os.path.join(data, "truth.json")) as fh:
        truth = json.load(fh)
    for set_name, t in truth["sets"].items():
        files = sorted(glob.glob(os.path.join(data, set_name, "*.json")))
        out = subprocess.run([binary, "--repeat", "2", *files], capture_output=True, text=True, check=True)
        s = json.loads(out.stdout)
        assert (s["payloads"], s["uncompressed_bytes"], s["compressed_bytes"], s["event_file_bytes"]) == (
            t["payloads"], t["uncompressed_bytes"], t["compressed_bytes"], t["event_file_bytes"])


def test_floor_reports_a_bad_file_and_fails(tmp_path):
    binary = floor_binary()
    if not binary:
        pytest.skip("inflate_floor example not built")
    bad = tmp_path / "bad.json"
    bad.write_text('{"awslogs": {"data": "H4sI"}}')
    out = subprocess.run([binary, str(bad)], capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert str(bad) in out.stderr and "gzip" in out.stderr


# -------------------------------------------------------------------------------------------------
# Harness and report
# -------------------------------------------------------------------------------------------------


def test_check_metrics_accepts_absent_zero_metrics_and_rejects_wrong_ones():
    expected = {"A": 3, "B": 0}
    assert harness.check_metrics({"metrics": {"Bench": {"A": 3}}}, "Bench", expected) == []
    assert harness.check_metrics({"metrics": {"Bench": {"A": 3.0, "B": 0}}}, "Bench", expected) == []
    assert harness.check_metrics({"metrics": {"Bench": {"A": 2}}}, "Bench", expected) == ["metric A = 2, expected 3"]
    assert harness.check_metrics({"metrics": {"Bench": {"A": 3, "C": 1}}}, "Bench", expected) == [
        "unexpected metrics ['C']"]
    assert harness.check_metrics({"metrics": {}}, "Bench", expected) == ["metric A missing, expected 3"]


def run_harness(data: str, out: str, *extra: str, env: dict | None = None) -> int:
    binary = floor_binary()
    if not binary:
        pytest.skip("inflate_floor example not built")
    cmd = [sys.executable, os.path.join(BENCH, "harness.py"), "--data", data, "--out", out, "--floor", binary,
           "--python", sys.executable, "--reps", "1", "--startup-runs", "5", *extra]
    return subprocess.run(cmd, env={**os.environ, **(env or {})}, check=False).returncode


def test_harness_and_report_end_to_end_with_a_replay_double(data, tmp_path):
    pytest.importorskip("aws_lambda_powertools")
    out = str(tmp_path / "out")
    assert run_harness(data, out, "--logrelay", FAKE) == 0
    with open(os.path.join(out, "results.json")) as fh:
        results = json.load(fh)
    assert results["failures"] == [] and results["logrelay_skipped"] is None
    runs = {(r["set"], r["impl"], r["run"]) for r in results["rows"]}
    for s in ("small", "large"):
        assert (s, "floor", "inflate") in runs and (s, "powertools", "error-ndjson") in runs
        assert (s, "split-copy", "error-ndjson") in runs
        for run in harness.LOGRELAY_RUNS:
            assert (s, "logrelay", run.name) in runs
    files_rows = [r for r in results["rows"] if r["run"].endswith("-files")]
    assert files_rows and all(r["bytes_written"] == r["summary"]["record_bytes"] for r in files_rows)
    assert set(results["startup"]) == {"floor", "powertools", "stdlib", "logrelay"}
    for s in ("small", "large"):
        assert results["warm"][s]["passes"] == 5 and {"floor", "logrelay"} <= set(results["warm"][s])

    md, svg_path = str(tmp_path / "r.md"), str(tmp_path / "r.svg")
    subprocess.run([sys.executable, os.path.join(BENCH, "report.py"), "--results", os.path.join(out, "results.json"),
                    "--markdown", md, "--svg", svg_path], check=True, capture_output=True)
    text = open(md).read()
    assert "## Targets" in text and "f100-ndjson" in text and "total $/TB" in text
    assert "## Warm (steady state)" in text and "Not measured." not in text
    assert results["machine"]["cpu_model"] in text
    root = ET.parse(svg_path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t.startswith("logrelay error-ndjson") for t in titles)
    assert any(t.startswith("split-copy bound") for t in titles)


def test_harness_refuses_to_time_a_wrong_summary(data, tmp_path):
    out = str(tmp_path / "out")
    rc = run_harness(data, out, "--logrelay", FAKE, "--runs", "error-ndjson", "--sets", "small",
                     env={"FAKE_LOGRELAY_MISCOUNT": "1"})
    assert rc == 1
    with open(os.path.join(out, "results.json")) as fh:
        results = json.load(fh)
    assert not [r for r in results["rows"] if r["impl"] == "logrelay"]
    (failure,) = [f for f in results["failures"] if "logrelay" in f["row"]]
    assert "metric ErrorCount" in failure["error"]


def test_harness_skips_logrelay_rows_when_replay_is_not_usable(data, tmp_path):
    out = str(tmp_path / "out")
    assert run_harness(data, out, "--logrelay", "/bin/false", "--sets", "small") == 0
    with open(os.path.join(out, "results.json")) as fh:
        results = json.load(fh)
    assert "not usable yet" in results["logrelay_skipped"]
    assert {r["impl"] for r in results["rows"]} == {"floor", "split-copy", "powertools", "stdlib"}


def synthetic_results() -> dict:
    def row(s, impl, run, wall, cpu, rss_kb, events=1_000_000, raw=400_000_000):
        return {"set": s, "impl": impl, "run": run, "events": events, "uncompressed_bytes": raw,
                "wall_s": wall, "cpu_s": cpu, "peak_rss_kb": rss_kb, "description": ""}
    return {
        "machine": {"cpu_model": "Test CPU", "cores": 2, "date": "2026-01-01 00:00 UTC"},
        "params": {"cpu": "0", "reps": 5, "seed": 1, "total_mb": 800},
        "sets": {"large": {"events_per_payload": 10_000, "payloads": 101, "data_payloads": 100,
                           "events": 1_000_000, "error_events": 10, "uncompressed_bytes": 400_000_000,
                           "compressed_bytes": 1, "event_file_bytes": 1}},
        "rows": [row("large", "floor", "inflate", 0.5, 0.5, 9000),
                 row("large", "split-copy", "error-ndjson", 0.625, 0.625, 12000),
                 row("large", "powertools", "error-ndjson", 20.0, 20.0, 60000),
                 row("large", "stdlib", "error-ndjson", 10.0, 10.0, 50000),
                 row("large", "logrelay", "error-ndjson", 1.0, 1.0, 20000),
                 row("large", "logrelay", "f100-ndjson", 4.0, 4.0, 50000)],
        "startup": {"logrelay": {"mean_s": 0.004, "median_s": 0.004, "min_s": 0.003, "cpu_s": 0.0, "runs": 10,
                                 "tool": "hyperfine", "stddev_s": 0.0}},
        "failures": [], "logrelay_skipped": None, "basis": "wall",
    }


def test_report_ratios_targets_and_cost_arithmetic():
    results = synthetic_results()
    rows = report.derive(results)
    lr = report.find(rows, "large", "logrelay", "error-ndjson")
    assert lr["x_powertools"] == pytest.approx(20.0) and lr["x_stdlib"] == pytest.approx(10.0)
    assert lr["x_floor"] == pytest.approx(0.5)
    assert lr["mb_per_s"] == pytest.approx(400.0)
    bound = report.find(rows, "large", "split-copy")
    assert bound["x_floor"] == pytest.approx(0.8)
    assert bound["x_powertools"] is None and bound["x_stdlib"] is None
    assert [c["impl"] for c in report.cost(results, rows)] == ["logrelay", "powertools", "stdlib"]
    verdicts = {t: v for t, _, v in report.targets(results, rows)}
    x12 = [v for t, v in verdicts.items() if t.startswith("1 filter") and "10,000" in t]
    assert x12 == ["FAIL"]  # 20× powertools but only 0.5× floor
    measured = {t: m for t, m, _ in report.targets(results, rows)}
    assert [m for t, m in measured.items() if t.startswith("1 filter") and "10,000" in t] == [
        "20.0× powertools, 0.50× floor (split-copy bound: 0.80× floor)"]
    assert [v for t, v in verdicts.items() if t.startswith("100 filters") and "10,000" in t] == ["FAIL"]  # 4×
    assert [v for t, v in verdicts.items() if t.startswith("peak RSS")] == ["FAIL"]  # 48.8 MB
    assert [v for t, v in verdicts.items() if t.startswith("start-up")] == ["PASS"]
    (c,) = [c for c in report.cost(results, rows) if c["impl"] == "logrelay"]
    # 1 µs/event, 10,000 events/invoke -> 10 ms CPU -> 138.2 ms at 128 MB -> 139 ms billed.
    assert c["cpu_us_per_event"] == pytest.approx(1.0)
    assert c["billed_ms"] == 139
    invokes = 1e12 / 400 / 10_000
    assert c["invokes_per_tb"] == pytest.approx(invokes)
    assert c["compute_usd"] == pytest.approx(invokes * 0.139 * 0.125 * 0.0000133334)
    assert c["requests_usd"] == pytest.approx(invokes * 0.2e-6)


def test_warm_time_per_pass_arithmetic():
    results = synthetic_results()
    # One pass: floor 0.5 s, logrelay 1.0 s (the rows); five passes: 0.4 s and 0.8 s more per pass.
    results["warm"] = {"large": {"passes": 5, "floor": {"wall_s": 0.5 + 4 * 0.4, "cpu_s": 0.0},
                                 "logrelay": {"wall_s": 1.0 + 4 * 0.8, "cpu_s": 0.0}}}
    rows = report.derive(results)
    assert report.warm_rows(results, rows) == [
        ["10,000 events/payload", "5", "400.0", "800.0", report.fmt_ratio(0.5), report.fmt_ratio(0.5)]]
    # A warm run that failed leaves its set out instead of inventing a figure.
    del results["warm"]["large"]["logrelay"]
    assert report.warm_rows(results, rows) == []


def test_svg_is_valid_and_marks_targets():
    results = synthetic_results()
    rows = report.derive(results)
    root = ET.fromstring(report.svg(results, rows))
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "target 12×" in texts and "target 0.8×" in texts
    rects = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.find("{http://www.w3.org/2000/svg}title") is not None]
    widths = {r.find("{http://www.w3.org/2000/svg}title").text: float(r.get("width")) for r in rects}
    assert widths["logrelay error-ndjson, 10,000 events/payload: 20"] > widths["stdlib peer, 10,000 events/payload: 2"]
