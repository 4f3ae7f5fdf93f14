#!/usr/bin/env python3
"""A CloudWatch Logs subscription forwarder built on Powertools for AWS Lambda (Python).

What a team would write with Powertools: the ``event_source`` decorator wraps the event in the
``CloudWatchLogsEvent`` data class, ``parse_logs_data()`` decodes it (base64, gzip, JSON), each
log event is counted when its message contains ``ERROR`` (the CloudWatch term pattern ``ERROR``)
and turned into one compact ndjson record (owner, logGroup, logStream, id, timestamp, message, the
same record logrelay's ``--forward-format ndjson`` builds), and the per-invoke ``ErrorCount`` is
serialized as an EMF document by Powertools ``Metrics``. Records and metric documents go to the
benchmark's sink instead of Kinesis and stdout.

Usage: ``powertools_forwarder.py [--records-out DIR] EVENT_FILE...``
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import CloudWatchLogsEvent, event_source

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import driver  # noqa: E402

metrics = Metrics(namespace="Bench", service="forwarder")


@event_source(data_class=CloudWatchLogsEvent)
def lambda_handler(event: CloudWatchLogsEvent, context: Any) -> dict:
    sink = driver.SINK
    decoded = event.parse_logs_data()
    if decoded.message_type == "CONTROL_MESSAGE":
        return {"control_message": 1, "events": 0, "forwarded_events": 0, "error_count": 0}
    owner, group, stream = decoded.owner, decoded.log_group, decoded.log_stream
    errors = 0
    records = []
    log_events = decoded.log_events
    for log_event in log_events:
        message = log_event.message
        if "ERROR" in message:
            errors += 1
        line = json.dumps(
            {"owner": owner, "logGroup": group, "logStream": stream, "id": log_event.get_id,
             "timestamp": log_event.timestamp, "message": message},
            ensure_ascii=False, separators=(",", ":"))
        records.append(line.encode("utf-8") + b"\n")
    sink.put_records(records)
    metrics.add_metric(name="ErrorCount", unit=MetricUnit.Count, value=errors)
    sink.put_metrics(metrics.serialize_metric_set())
    metrics.clear_metrics()
    return {"control_message": 0, "events": len(log_events), "forwarded_events": len(records),
            "error_count": errors}


if __name__ == "__main__":
    sys.exit(driver.main(lambda_handler, __doc__.split("\n\n")[0]))
