#!/usr/bin/env python3
"""Runs the logrelay benchmark matrix on generated payloads and writes ``results.json``.

Every measured command runs as ``/usr/bin/time -v taskset -c CPU COMMAND`` on the same event files:
wall time is taken around the process, user/system CPU from ``wait4`` and peak RSS from GNU time. Each
command first runs once untimed and its JSON summary is checked against the generator's ground
truth (``truth.json``); only a command whose summary is right is then timed ``--reps`` times, and
every timed repetition must print the same summary again. A command whose summary is wrong is
recorded as failed, with the reasons, and never gets a timing.

Implementations, per payload set (``small``: 500 events per payload, ``large``: 10,000):

- ``floor``: ``examples/inflate_floor`` — event JSON, base64, inflate; nothing else;
- ``split-copy``: ``inflate_floor --split-copy`` — the floor, then the least of the error-ndjson job
  a forwarder could do if it trusted the payload's layout instead of parsing JSON (a bound, not a
  forwarder: see the example's documentation);
- ``powertools`` and ``stdlib``: the Python peers in ``bench/peers/`` (ERROR count + ndjson);
- ``logrelay``: ``logrelay replay`` with the runs in ``LOGRELAY_RUNS``, skipped with a message
  when the binary does not run ``replay`` yet.

Start-up is timed on a one-event payload with hyperfine when it is installed (a loop otherwise).
``report.py`` turns ``results.json`` into the table, the chart and the cost estimate.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import glob
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class LogrelayRun:
    """One ``logrelay replay`` configuration of the matrix."""

    name: str
    config: str  # name of a config written by gen.py
    forward_format: str  # cwl | ndjson
    records_to_files: bool
    description: str


LOGRELAY_RUNS = [
    LogrelayRun("error-ndjson", "error", "ndjson", False, "1 filter `ERROR`, ndjson, null sink"),
    LogrelayRun("error-cwl", "error", "cwl", False, "1 filter `ERROR`, cwl (gzip JSON), null sink"),
    LogrelayRun("json-ndjson", "json", "ndjson", False, 'JSON filter `{ $.level = "ERROR" }`, ndjson'),
    LogrelayRun("space-ndjson", "space", "ndjson", False,
                "space-delimited `[ip, id, user, ts, request, status=5*, bytes]` on the access logs, ndjson"),
    LogrelayRun("f100-ndjson", "f100", "ndjson", False, "100 filters (terms, JSON, space-delimited), ndjson"),
    LogrelayRun("error-ndjson-files", "error", "ndjson", True, "1 filter `ERROR`, ndjson written to files"),
    LogrelayRun("error-cwl-files", "error", "cwl", True, "1 filter `ERROR`, cwl written to files"),
]

PEERS = {
    "powertools": ("peers/powertools_forwarder.py", "Python + aws-lambda-powertools CloudWatchLogsEvent, ERROR count, ndjson"),
    "stdlib": ("peers/stdlib_forwarder.py", "Python stdlib base64/gzip/json, ERROR count, ndjson"),
}


class BenchError(Exception):
    """A command that failed or printed a wrong summary."""


@dataclass
class Sample:
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_kb: int
    stdout: str


# Lambda developer guide, "Lambda quotas": 6 MB of invocation payload for a synchronous invocation,
# which is how an event source mapping invokes the hub.
INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024
# The central stack's default HubBatchSize (deploy/central.yaml).
HUB_BATCH_SIZE = 500


def revision(paths: list[str], mark: str) -> str:
    """The checked-out commit (short), followed by `mark` when `paths` differ from it; "unknown"
    without git."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", *paths],
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + (mark if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def kinesis_event(records: list[bytes]) -> bytes:
    """A Kinesis Lambda event of these record data, as an event source mapping delivers it."""
    out = []
    for n, data in enumerate(records):
        seq = f"{n + 1:056d}"
        out.append({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "k", "sequenceNumber": seq,
                                "data": base64.b64encode(data).decode("ascii"),
                                "approximateArrivalTimestamp": 1.7e9},
                    "eventSource": "aws:kinesis", "eventID": f"shardId-000000000000:{seq}"})
    return json.dumps({"Records": out}).encode("ascii")


def write_kinesis_events(records: list[bytes], directory: str) -> tuple[list[str], int]:
    """Kinesis event files of as many records as one hub invocation takes (the 6 MB invocation
    payload, at most the batch size); returns (files, records per file)."""
    os.makedirs(directory)
    mean = sum(len(r) for r in records) / len(records)
    per = max(1, min(HUB_BATCH_SIZE, int(INVOKE_PAYLOAD_BYTES * 0.95 / (mean * 4 / 3 + 300))))
    files = []
    for i in range(0, len(records), per):
        path = os.path.join(directory, f"k{i // per:05d}.json")
        with open(path, "wb") as f:
            f.write(kinesis_event(records[i:i + per]))
        files.append(path)
    return files, per


def run_once(cmd: list[str], cpu: str, scratch: str) -> Sample:
    """Runs ``cmd`` pinned to ``cpu`` under GNU time; raises ``BenchError`` on a non-zero exit.

    Peak RSS is GNU time's. CPU time comes from ``wait4`` on the process tree (GNU time prints
    it in hundredths of a second only); it includes GNU time's and taskset's own start-up, well
    under a millisecond.
    """
    time_file = os.path.join(scratch, "time.txt")
    out_file = os.path.join(scratch, "stdout.txt")
    err_file = os.path.join(scratch, "stderr.txt")
    full = ["/usr/bin/time", "-v", "-o", time_file, "taskset", "-c", cpu] + cmd
    with open(out_file, "wb") as out, open(err_file, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        with open(err_file, "rb") as fh:
            tail = fh.read()[-2000:].decode("utf-8", "replace").strip()
        raise BenchError(f"exit status {proc.returncode}: {tail or '(no stderr)'}")
    with open(time_file, encoding="utf-8") as fh:
        report = fh.read()
    m = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", report)
    if not m:
        raise BenchError("GNU time report has no maximum resident set size")
    with open(out_file, "rb") as fh:
        stdout = fh.read().decode("utf-8", "replace")
    return Sample(wall, usage.ru_utime, usage.ru_stime, int(m.group(1)), stdout)


def last_json_line(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise BenchError("printed no summary on stdout")
    try:
        summary = json.loads(lines[-1])
    except ValueError as exc:
        raise BenchError(f"last stdout line is not JSON ({exc}): {lines[-1][:200]}") from exc
    if not isinstance(summary, dict):
        raise BenchError(f"summary is not a JSON object: {lines[-1][:200]}")
    return summary


def measure(cmd: list[str], verify: Callable[[dict], list[str]], reps: int, cpu: str, scratch: str,
            before_each: Callable[[], None] | None = None,
            comparable: Callable[[dict], dict] = lambda s: s) -> dict:
    """Verification run, then ``reps`` timed runs; returns the row's measurements."""
    if before_each:
        before_each()
    first = run_once(cmd, cpu, scratch)
    summary = last_json_line(first.stdout)
    problems = verify(summary)
    if problems:
        raise BenchError("summary does not match the ground truth: " + "; ".join(problems)
                         + f" — summary: {json.dumps(summary)[:600]}")
    samples = []
    for _ in range(reps):
        if before_each:
            before_each()
        s = run_once(cmd, cpu, scratch)
        again = last_json_line(s.stdout)
        if comparable(again) != comparable(summary):
            raise BenchError(f"a repetition printed a different summary: {json.dumps(again)[:600]}")
        samples.append(s)
    walls = [s.wall_s for s in samples]
    cpus = [s.user_s + s.sys_s for s in samples]
    return {
        "summary": summary,
        "reps": [{"wall_s": s.wall_s, "user_s": s.user_s, "sys_s": s.sys_s, "max_rss_kb": s.max_rss_kb}
                 for s in samples],
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "peak_rss_kb": max(s.max_rss_kb for s in samples),
    }


# -------------------------------------------------------------------------------------------------
# Verification against truth.json
# -------------------------------------------------------------------------------------------------


def close(a: Any, b: float) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool) and abs(a - b) <= 1e-9 * max(1.0, abs(b))


def check_counts(summary: dict, truth: dict) -> list[str]:
    problems = []
    # Whether `payloads` counts the control message too is the summary's convention: accept both.
    if summary.get("payloads") not in (truth["payloads"], truth["data_payloads"]):
        problems.append(f"payloads = {summary.get('payloads')!r}, expected {truth['payloads']} "
                        f"(or {truth['data_payloads']} without the control message)")
    for key, want in (("control_messages", truth["control_messages"]),
                      ("events", truth["events"]), ("forwarded_events", truth["events"])):
        if summary.get(key) != want:
            problems.append(f"{key} = {summary.get(key)!r}, expected {want}")
    for key in ("records", "record_bytes"):
        if not isinstance(summary.get(key), int) or summary[key] <= 0:
            problems.append(f"{key} = {summary.get(key)!r}, expected a positive count")
    return problems


def check_metrics(summary: dict, namespace: str, expected: dict[str, float]) -> list[str]:
    got = summary.get("metrics")
    if not isinstance(got, dict):
        return [f"metrics = {got!r}, expected an object by namespace"]
    problems = []
    unknown_ns = sorted(set(got) - {namespace})
    if unknown_ns:
        problems.append(f"unexpected metric namespaces {unknown_ns}")
    values = got.get(namespace, {})
    if not isinstance(values, dict):
        return problems + [f"metrics[{namespace!r}] is not an object"]
    for name, want in expected.items():
        if name not in values:
            if want != 0:
                problems.append(f"metric {name} missing, expected {want:g}")
        elif not close(values[name], want):
            problems.append(f"metric {name} = {values[name]!r}, expected {want:g}")
    extra = sorted(set(values) - set(expected))
    if extra:
        problems.append(f"unexpected metrics {extra}")
    return problems


# -------------------------------------------------------------------------------------------------
# Start-up
# -------------------------------------------------------------------------------------------------


def startup(cmd: list[str], cpu: str, runs: int, scratch: str) -> dict:
    """Start-up time of ``cmd`` on a tiny event: hyperfine if installed, a loop otherwise."""
    hyperfine = shutil.which("hyperfine")
    if hyperfine:
        export = os.path.join(scratch, "hyperfine.json")
        full = ["taskset", "-c", cpu, hyperfine, "-N", "--warmup", "3", "--runs", str(runs),
                "--export-json", export, shlex.join(cmd)]
        proc = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            raise BenchError(f"hyperfine failed: {proc.stderr.decode('utf-8', 'replace')[-1000:]}")
        with open(export, encoding="utf-8") as fh:
            r = json.load(fh)["results"][0]
        return {"tool": "hyperfine", "runs": len(r["times"]), "mean_s": r["mean"], "median_s": r["median"],
                "stddev_s": r["stddev"], "min_s": r["min"], "cpu_s": r["user"] + r["system"]}
    samples = [run_once(cmd, cpu, scratch) for _ in range(runs)]
    walls = [s.wall_s for s in samples]
    return {"tool": "loop (GNU time)", "runs": runs, "mean_s": statistics.mean(walls),
            "median_s": statistics.median(walls), "stddev_s": statistics.pstdev(walls), "min_s": min(walls),
            "cpu_s": statistics.mean(s.user_s + s.sys_s for s in samples)}


# -------------------------------------------------------------------------------------------------
# Machine
# -------------------------------------------------------------------------------------------------


def machine() -> dict:
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
    try:
        info["rustc"] = subprocess.run(["rustc", "--version"], capture_output=True, text=True,
                                       check=False).stdout.strip()
    except OSError:
        pass
    return info


def tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else ""
    except (OSError, subprocess.SubprocessError):
        return ""


# -------------------------------------------------------------------------------------------------
# Main
# -------------------------------------------------------------------------------------------------


def logrelay_cmd(binary: str, data: str, run: LogrelayRun, files: list[str], scratch: str,
                 records_dir: str) -> list[str]:
    cmd = [binary, "replay", "--config", os.path.join(data, "configs", f"{run.config}.json"),
           "--forward-format", run.forward_format, "--metrics", "emf",
           "--metrics-out", os.path.join(scratch, "metrics.emf")]
    if run.records_to_files:
        cmd += ["--records-out", records_dir]
    return cmd + files


def probe_logrelay(binary: str | None, data: str, scratch: str) -> str | None:
    """``None`` when ``logrelay replay`` works on the tiny event, else why the rows are skipped."""
    if not binary:
        return "no logrelay binary given"
    if not os.access(binary, os.X_OK):
        return f"{binary} is not an executable file"
    cmd = logrelay_cmd(binary, data, LOGRELAY_RUNS[0], [os.path.join(data, "tiny", "event.json")], scratch, "")
    proc = subprocess.run(cmd, capture_output=True, check=False, timeout=60)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return (f"`logrelay replay` is not usable yet (exit status {proc.returncode}"
                + (f": {err[0]}" if err else "") + ")")
    try:
        summary = last_json_line(proc.stdout.decode("utf-8", "replace"))
    except BenchError as exc:
        return f"`logrelay replay` {exc}"
    if summary.get("events") != 1:
        return f"`logrelay replay` on a one-event payload reported events = {summary.get('events')!r}"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="directory written by gen.py")
    ap.add_argument("--out", required=True, help="directory for results.json and scratch files")
    ap.add_argument("--python", default=sys.executable, help="Python with aws-lambda-powertools")
    ap.add_argument("--floor", required=True, help="inflate_floor example binary")
    ap.add_argument("--logrelay", help="logrelay release binary")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cpu", default="0", help="CPU list for taskset -c")
    ap.add_argument("--sets", default="small,large")
    ap.add_argument("--runs", default=",".join(r.name for r in LOGRELAY_RUNS), help="logrelay runs to do")
    ap.add_argument("--startup-runs", type=int, default=50)
    ap.add_argument("--warm", type=int, default=5, metavar="N",
                    help="passes over the files for the warm (steady-state) time per pass; 0 = skip")
    args = ap.parse_args(argv)
    if args.reps < 1:
        ap.error("--reps must be at least 1")

    with open(os.path.join(args.data, "truth.json"), encoding="utf-8") as fh:
        truth = json.load(fh)
    namespace = truth["namespace"]
    os.makedirs(args.out, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="scratch-", dir=args.out)
    records_dir = os.path.join(args.out, "records")
    wanted_runs = [r for r in LOGRELAY_RUNS if r.name in args.runs.split(",")]

    def log(msg: str) -> None:
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    skip_reason = probe_logrelay(args.logrelay, args.data, scratch)
    if skip_reason:
        log(f"logrelay rows skipped: {skip_reason}")

    results: dict[str, Any] = {
        "machine": machine(),
        "params": {**truth["params"], "reps": args.reps, "cpu": args.cpu},
        "versions": {
            "logrelay": tool_version([args.logrelay, "--version"]) if args.logrelay else "",
            "python_peers": tool_version([args.python, "-c", "import aws_lambda_powertools.shared.version as v, sys; print('Python', sys.version.split()[0], '+ aws-lambda-powertools', v.VERSION)"]),
            "hyperfine": tool_version(["hyperfine", "--version"]) if shutil.which("hyperfine") else "",
        },
        "sets": {},
        "rows": [],
        "failures": [],
        "logrelay_skipped": skip_reason,
        "startup": {},
        "warm": {},
    }

    def record(row: dict, cmd: list[str], verify: Callable[[dict], list[str]], **kw: Any) -> None:
        label = f"{row['set']}/{row['impl']}/{row['run']}"
        log(f"{label}: verifying, then {args.reps} timed runs")
        try:
            row.update(measure(cmd, verify, args.reps, args.cpu, scratch, **kw))
        except BenchError as exc:
            log(f"{label}: FAILED: {exc}")
            results["failures"].append({"row": label, "error": str(exc)})
            return
        log(f"{label}: {row['wall_s']:.3f} s, {row['peak_rss_kb'] / 1024:.1f} MB peak RSS")
        results["rows"].append(row)

    for set_name in args.sets.split(","):
        t = truth["sets"][set_name]
        files = sorted(glob.glob(os.path.join(args.data, set_name, "*.json")))
        if len(files) != t["payloads"]:
            raise SystemExit(f"{set_name}: {len(files)} files, truth says {t['payloads']}: regenerate the data")
        results["sets"][set_name] = {k: t[k] for k in (
            "events_per_payload", "payloads", "data_payloads", "events", "error_events",
            "uncompressed_bytes", "compressed_bytes", "event_file_bytes")}
        base = {"set": set_name, "events": t["events"], "uncompressed_bytes": t["uncompressed_bytes"]}

        def verify_floor(s: dict, t: dict = t) -> list[str]:
            keys = ("payloads", "uncompressed_bytes", "compressed_bytes", "event_file_bytes")
            return [f"{k} = {s.get(k)!r}, expected {t[k]}" for k in keys if s.get(k) != t[k]]

        record(dict(base, impl="floor", run="inflate", description="event JSON + base64 + inflate (flate2, zlib-rs)"),
               [args.floor] + files, verify_floor,
               comparable=lambda s: {k: v for k, v in s.items() if k != "seconds"})

        def verify_split(s: dict, t: dict = t) -> list[str]:
            want = {"payloads": t["payloads"], "uncompressed_bytes": t["uncompressed_bytes"],
                    "events": t["events"], "error_events": t["error_events"]}
            bad = [f"{k} = {s.get(k)!r}, expected {v}" for k, v in want.items() if s.get(k) != v]
            return bad + ([] if s.get("line_bytes", 0) > 0 else ["no line_bytes"])

        record(dict(base, impl="split-copy", run="error-ndjson",
                    description="floor + UTF-8 check, events cut at {\"id\":, ERROR searched, lines copied "
                                "into 1 MiB records; no JSON parsed (a bound, not a forwarder)"),
               [args.floor, "--split-copy"] + files, verify_split,
               comparable=lambda s: {k: v for k, v in s.items() if k != "seconds"})

        for peer, (script, description) in PEERS.items():
            def verify_peer(s: dict, t: dict = t) -> list[str]:
                return check_counts(s, t) + check_metrics(s, namespace, {"ErrorCount": t["error_events"]})
            record(dict(base, impl=peer, run="error-ndjson", description=description),
                   [args.python, os.path.join(HERE, script)] + files, verify_peer)

        if skip_reason:
            continue
        for run in wanted_runs:
            expected = truth["expected_metrics"][run.config][set_name]

            def verify_logrelay(s: dict, t: dict = t, expected: dict = expected) -> list[str]:
                return check_counts(s, t) + check_metrics(s, namespace, expected)

            def fresh_records() -> None:
                shutil.rmtree(records_dir, ignore_errors=True)
                os.makedirs(records_dir)

            assert args.logrelay is not None
            record(dict(base, impl="logrelay", run=run.name, description=run.description,
                        config=run.config, forward_format=run.forward_format),
                   logrelay_cmd(args.logrelay, args.data, run, files, scratch, records_dir),
                   verify_logrelay, before_each=fresh_records if run.records_to_files else None)
            if run.records_to_files and results["rows"] and results["rows"][-1]["run"] == run.name:
                written = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(records_dir) for f in fs)
                results["rows"][-1]["bytes_written"] = written
                shutil.rmtree(records_dir, ignore_errors=True)

        # Warm: the floor and 1-filter ERROR + ndjson on the file list passed N times in one process.
        # (time of N passes - time of one pass) / (N - 1) is what a warm instance pays per pass, its
        # start-up, first page faults and first allocations behind it.
        # Only when the single pass was verified and timed: the warm time is relative to it.
        warm_run = next((r for r in wanted_runs if r.name == "error-ndjson"), None)
        timed = any(r["set"] == set_name and r["impl"] == "logrelay" and r["run"] == "error-ndjson"
                    for r in results["rows"])
        if args.warm >= 2 and warm_run is not None and timed:
            n = args.warm
            scaled = {k: v * n if isinstance(v, int) else v for k, v in t.items()}
            warm_expected = {k: v * n for k, v in truth["expected_metrics"]["error"][set_name].items()}

            def verify_warm(s: dict, scaled: dict = scaled, warm_expected: dict = warm_expected) -> list[str]:
                return check_counts(s, scaled) + check_metrics(s, namespace, warm_expected)

            warm: dict[str, Any] = {"passes": n}
            for impl, cmd, verify in (
                    ("floor", [args.floor, "--repeat", str(n)] + files, verify_floor),
                    ("logrelay", logrelay_cmd(args.logrelay, args.data, warm_run, files * n, scratch,
                                              records_dir), verify_warm)):
                label = f"{set_name}/{impl}/warm"
                log(f"{label}: {n} passes, verifying, then {args.reps} timed runs")
                try:
                    m = measure(cmd, verify, args.reps, args.cpu, scratch,
                                comparable=lambda s: {k: v for k, v in s.items() if k != "seconds"})
                except BenchError as exc:
                    log(f"{label}: FAILED: {exc}")
                    results["failures"].append({"row": label, "error": str(exc)})
                    continue
                warm[impl] = {"wall_s": m["wall_s"], "cpu_s": m["cpu_s"], "peak_rss_kb": m["peak_rss_kb"]}
            results["warm"][set_name] = warm

    tiny = os.path.join(args.data, "tiny", "event.json")
    startups = {
        "floor": ([args.floor, tiny], args.startup_runs),
        "powertools": ([args.python, os.path.join(HERE, PEERS["powertools"][0]), tiny], max(5, args.startup_runs // 5)),
        "stdlib": ([args.python, os.path.join(HERE, PEERS["stdlib"][0]), tiny], max(5, args.startup_runs // 5)),
    }
    if not skip_reason:
        assert args.logrelay is not None
        startups["logrelay"] = (logrelay_cmd(args.logrelay, args.data, LogrelayRun(
            "startup", "f100", "ndjson", False, ""), [tiny], scratch, records_dir), args.startup_runs)
    for impl, (cmd, runs) in startups.items():
        log(f"start-up of {impl} ({runs} runs)")
        try:
            results["startup"][impl] = startup(cmd, args.cpu, runs, scratch)
        except BenchError as exc:
            results["failures"].append({"row": f"startup/{impl}", "error": str(exc)})
    if "logrelay" in results["startup"]:
        results["startup"]["logrelay"]["command"] = "logrelay replay --config <100 filters> <one-event payload>"

    out_path = os.path.join(args.out, "results.json")
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=1)
    shutil.rmtree(scratch, ignore_errors=True)
    log(f"wrote {out_path}")
    return 1 if results["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
