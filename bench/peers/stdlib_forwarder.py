#!/usr/bin/env python3
"""A hand-written CloudWatch Logs subscription forwarder using only the standard library.

The shape most hand-written forwarders take: ``base64.b64decode``, ``gzip.decompress`` and
``json.loads`` on ``awslogs.data``, then a loop over ``logEvents`` that counts messages containing
``ERROR`` and builds one compact ndjson record per event (owner, logGroup, logStream, id,
timestamp, message — the record logrelay's ``--forward-format ndjson`` builds), and one
``PutMetricData``-style metric document per invoke. Records and metric documents go to the
benchmark's sink instead of Kinesis and CloudWatch.

Usage: ``stdlib_forwarder.py [--records-out DIR] EVENT_FILE...``
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import driver  # noqa: E402


def lambda_handler(event: dict, context: Any) -> dict:
    sink = driver.SINK
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if payload["messageType"] == "CONTROL_MESSAGE":
        return {"control_message": 1, "events": 0, "forwarded_events": 0, "error_count": 0}
    owner, group, stream = payload["owner"], payload["logGroup"], payload["logStream"]
    errors = 0
    records = []
    for log_event in payload["logEvents"]:
        message = log_event["message"]
        if "ERROR" in message:
            errors += 1
        line = json.dumps(
            {"owner": owner, "logGroup": group, "logStream": stream, "id": log_event["id"],
             "timestamp": log_event["timestamp"], "message": message},
            ensure_ascii=False, separators=(",", ":"))
        records.append(line.encode("utf-8") + b"\n")
    sink.put_records(records)
    sink.put_metrics({"Namespace": "Bench",
                      "MetricData": [{"MetricName": "ErrorCount", "Value": errors, "Unit": "Count"}]})
    return {"control_message": 0, "events": len(payload["logEvents"]),
            "forwarded_events": len(records), "error_count": errors}


if __name__ == "__main__":
    sys.exit(driver.main(lambda_handler, __doc__.split("\n\n")[0]))
