"""Runs a Python forwarder's Lambda handler on Lambda event files, one invoke per file.

Shared by the Python peers of the logrelay benchmark so that they do the same outer work as
``logrelay replay``: read each event file, parse the Lambda event JSON (the Lambda runtime does
this before calling a Python handler), call the handler, and print one JSON summary in the shape
``logrelay replay`` prints::

    {"payloads":N,"control_messages":N,"events":N,"forwarded_events":N,"records":N,
     "record_bytes":N,"metrics":{"Bench":{"ErrorCount":N}}}

Records go to a sink: by default a null sink that only counts them (the records are still fully
encoded to bytes), with ``--records-out DIR`` one ndjson file per payload.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable


class Sink:
    """Where a handler sends its records and metric documents instead of Kinesis and CloudWatch."""

    def __init__(self, records_out: str | None) -> None:
        self.records_out = records_out
        self.records = 0
        self.record_bytes = 0
        self.metric_documents: list[Any] = []
        self._files = 0

    def put_records(self, records: list[bytes]) -> None:
        """Takes the encoded records of one invoke (a real function would call PutRecords)."""
        self.records += len(records)
        self.record_bytes += sum(len(r) for r in records)
        if self.records_out is not None:
            path = os.path.join(self.records_out, f"{self._files:06d}.ndjson")
            self._files += 1
            with open(path, "wb") as fh:
                fh.writelines(records)

    def put_metrics(self, document: Any) -> None:
        """Takes one metric document (a real function would print EMF or call PutMetricData)."""
        self.metric_documents.append(document)


#: The sink of the running process, set by ``main`` (a real function holds its Kinesis and
#: CloudWatch clients in module globals the same way).
SINK = Sink(None)

Handler = Callable[[dict, Any], dict]


def main(handler: Handler, description: str, argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--records-out", help="write records as ndjson files into this directory")
    ap.add_argument("files", nargs="+", metavar="EVENT_FILE")
    args = ap.parse_args(argv)
    if args.records_out:
        os.makedirs(args.records_out, exist_ok=True)
    global SINK
    sink = SINK = Sink(args.records_out)
    totals = {"payloads": 0, "control_messages": 0, "events": 0, "forwarded_events": 0}
    errors = 0
    for path in args.files:
        try:
            with open(path, "rb") as fh:
                event = json.load(fh)
            result = handler(event, None)
        except Exception as exc:  # report which file failed, then stop: never skip data silently
            print(f"{path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        totals["payloads"] += 1
        totals["control_messages"] += result["control_message"]
        totals["events"] += result["events"]
        totals["forwarded_events"] += result["forwarded_events"]
        errors += result["error_count"]
    summary = dict(totals, records=sink.records, record_bytes=sink.record_bytes,
                   metrics={"Bench": {"ErrorCount": errors}})
    print(json.dumps(summary, separators=(",", ":")))
    return 0
