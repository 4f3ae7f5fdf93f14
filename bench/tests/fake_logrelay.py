#!/usr/bin/env python3
"""Test double of ``logrelay replay`` for the benchmark's own tests. Not a benchmark peer.

Speaks the ``replay`` command line and summary format so that the harness, the verification and
the report can be tested before the real binary exists. Metric filters are evaluated with the
generator's reference predicates, looked up by metric name, so it only understands the configs
``gen.py`` writes. With ``FAKE_LOGRELAY_MISCOUNT=1`` it reports one ERROR too many, to check that
the harness refuses to time a wrong answer.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gen  # noqa: E402


def main() -> int:
    if sys.argv[1:2] == ["--version"]:
        print("logrelay 0.0.0-fake")
        return 0
    if sys.argv[1:2] != ["replay"]:
        print("usage: fake_logrelay.py replay ...", file=sys.stderr)
        return 2
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--forward-format", default="cwl", choices=("cwl", "ndjson"))
    ap.add_argument("--records-out")
    ap.add_argument("--metrics", default="emf")
    ap.add_argument("--metrics-out")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(sys.argv[2:])
    with open(args.config, encoding="utf-8") as fh:
        cfg = json.load(fh)["metricFilters"]
    by_name = {f.name: f for f in gen.filters_100()}
    filters = [(by_name[c["metricTransformations"][0]["metricName"]], c.get("logGroupName")) for c in cfg]
    totals = {"payloads": 0, "control_messages": 0, "events": 0, "forwarded_events": 0, "records": 0,
              "record_bytes": 0}
    sums: dict[str, float] = {}
    for n, path in enumerate(args.files):
        with open(path, "rb") as fh:
            doc = json.loads(gzip.decompress(base64.b64decode(json.load(fh)["awslogs"]["data"])))
        totals["payloads"] += 1
        if doc["messageType"] == "CONTROL_MESSAGE":
            totals["control_messages"] += 1
            continue
        msgs = [e["message"] for e in doc["logEvents"]]
        metrics = gen.evaluate(doc["logGroup"], msgs)["sums"]
        for f, group in filters:
            if group in (None, doc["logGroup"]) and metrics[f.name]:
                sums[f.name] = sums.get(f.name, 0) + metrics[f.name]
        if args.forward_format == "ndjson":
            data = b"".join(json.dumps({"owner": doc["owner"], "logGroup": doc["logGroup"],
                                        "logStream": doc["logStream"], "id": e["id"],
                                        "timestamp": e["timestamp"], "message": e["message"]},
                                       ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
                            for e in doc["logEvents"])
        else:
            data = gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), 6)
        totals["events"] += len(msgs)
        totals["forwarded_events"] += len(msgs)
        totals["records"] += 1
        totals["record_bytes"] += len(data)
        if args.records_out:
            with open(os.path.join(args.records_out, f"{n:06d}.rec"), "wb") as fh:
                fh.write(data)
    if os.environ.get("FAKE_LOGRELAY_MISCOUNT") == "1" and "ErrorCount" in sums:
        sums["ErrorCount"] += 1
    if args.metrics_out:
        with open(args.metrics_out, "w", encoding="utf-8") as fh:
            json.dump({"_aws": {"CloudWatchMetrics": [{"Namespace": "Bench"}]}, **sums}, fh)
    print(json.dumps(dict(totals, metrics={"Bench": sums} if sums else {}), separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
