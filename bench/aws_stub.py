#!/usr/bin/env python3
"""A loopback stand-in for Kinesis PutRecords and CloudWatch PutMetricData that answers after a
fixed latency, for timing what a Lambda waits on, and counts what it receives in the units AWS bills.

Usage: aws_stub.py --port-file FILE [--latency-ms 20]

It listens on a free loopback port, writes ``http://127.0.0.1:PORT`` to FILE, and serves until
killed. ``GET /stats`` returns the counts as JSON:

- ``put_records_calls``, ``records``, ``record_bytes`` (data + partition key, as Kinesis counts
  them), ``ingest_kb`` (each record rounded up to 1 KB: Kinesis on-demand "Data-In"), and
  ``put_payload_units`` (each record in 25 KB units: Kinesis provisioned PUT payload units)
  — Amazon Kinesis Data Streams pricing page;
- ``put_metric_data_calls`` and ``datums``.

Every record is accepted; every PutMetricData succeeds. The SDKs talk HTTP/1.1 with keep-alive:
Kinesis as JSON 1.1 (``X-Amz-Target: Kinesis_20131202.PutRecords``), CloudWatch with the AWS query
protocol (a form body with ``Action=PutMetricData``, gzip-compressed when it is 10 KiB or more).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATS = {
    "put_records_calls": 0,
    "records": 0,
    "record_bytes": 0,
    "ingest_kb": 0,
    "put_payload_units": 0,
    "put_metric_data_calls": 0,
    "datums": 0,
    "other_requests": 0,
}
LOCK = threading.Lock()
LATENCY_S = 0.02


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body would wait for the
    # client's delayed ACK (up to 40 ms), a latency no AWS endpoint adds.
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "aws-stub")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self) -> None:
        if self.path == "/stats":
            with LOCK:
                body = json.dumps(STATS).encode()
            self.reply(200, "application/json", body)
        else:
            self.reply(404, "text/plain", b"not found")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding", "") == "gzip":
            body = gzip.decompress(body)
        time.sleep(LATENCY_S)
        target = self.headers.get("X-Amz-Target", "")
        if target == "Kinesis_20131202.PutRecords":
            req = json.loads(body)
            results = []
            with LOCK:
                STATS["put_records_calls"] += 1
                for i, r in enumerate(req["Records"]):
                    size = len(base64.b64decode(r["Data"])) + len(r["PartitionKey"].encode())
                    STATS["records"] += 1
                    STATS["record_bytes"] += size
                    STATS["ingest_kb"] += -(-size // 1024)
                    STATS["put_payload_units"] += -(-size // (25 * 1024))
                    results.append({"SequenceNumber": f"{STATS['records']:056d}", "ShardId": "shardId-000000000000"})
            self.reply(200, "application/x-amz-json-1.1",
                       json.dumps({"FailedRecordCount": 0, "Records": results}).encode())
            return
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if form.get("Action") == ["PutMetricData"]:
            datums = sum(1 for k in form if k.startswith("MetricData.member.") and k.endswith(".MetricName"))
            with LOCK:
                STATS["put_metric_data_calls"] += 1
                STATS["datums"] += datums
            self.reply(200, "text/xml", (
                '<PutMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">'
                "<ResponseMetadata><RequestId>aws-stub</RequestId></ResponseMetadata>"
                "</PutMetricDataResponse>").encode())
            return
        with LOCK:
            STATS["other_requests"] += 1
        self.reply(400, "application/x-amz-json-1.1",
                   json.dumps({"__type": "UnknownOperationException", "message": target or "?"}).encode())


def main() -> int:
    global LATENCY_S
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    args = ap.parse_args()
    LATENCY_S = args.latency_ms / 1000
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(args.port_file + ".tmp", "w", encoding="utf-8") as fh:
        fh.write(f"http://127.0.0.1:{server.server_address[1]}")
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
