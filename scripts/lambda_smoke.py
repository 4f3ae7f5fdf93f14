"""Invokes the locally emulated Lambda with events/ and checks the results in moto (see lambda-smoke)."""
import base64
import gzip
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENDPOINT = os.environ["LOGRELAY_TEST_AWS_ENDPOINT"]
REGION = "us-east-1"
STREAM = f"lambda-smoke-{os.getpid()}"
NAMESPACE = f"LambdaSmoke{os.getpid()}"
# Every sample subscription event in events/, in name order; the Kinesis events of events/kinesis/ are
# the hub's, invoked in hub mode.
EVENTS = sorted(f for f in os.listdir(os.path.join(ROOT, "events")) if f.endswith(".json"))
HUB_EVENTS = sorted("kinesis/" + f for f in os.listdir(os.path.join(ROOT, "events", "kinesis"))
                    if f.endswith(".json"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


EVENT_DIR = None  # the sample events re-made with current timestamps (set in main)


def decoded(name):
    """What events/NAME decodes to (events/decoded/NAME; events/kinesis/decoded/ for kinesis/NAME)."""
    directory, _, file = name.rpartition("/")
    with open(os.path.join(EVENT_DIR, directory, "decoded", file), encoding="utf-8") as f:
        return json.load(f)


def start_watch(env, port):
    """`cargo lambda watch` on a loopback port with `env`, once it answers; returns (process, log file)."""
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"logrelay-lambda-watch-{port}.log"), "w")
    watch = subprocess.Popen(["cargo", "lambda", "watch", "-A", "127.0.0.1", "-P", str(port)],
                             cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if watch.poll() is not None:
                sys.exit(f"cargo lambda watch exited with {watch.returncode}; see {log.name}")
            time.sleep(0.5)
    return watch, log


def stop_watch(watch, log):
    watch.terminate()
    try:
        watch.wait(timeout=20)
    except subprocess.TimeoutExpired:
        watch.kill()
    log.close()


def metric_sum(cloudwatch, namespace, name, dimension=None):
    """Sum of every datapoint of namespace/name, over all its dimension sets (or those holding
    `dimension`, a (name, value) pair)."""
    total = 0.0
    for m in cloudwatch.list_metrics(Namespace=namespace, MetricName=name)["Metrics"]:
        if dimension and {"Name": dimension[0], "Value": dimension[1]} not in m["Dimensions"]:
            continue
        s = cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=name, Dimensions=m["Dimensions"],
            StartTime=time.time() - 86400, EndTime=time.time() + 86400, Period=60, Statistics=["Sum"])
        total += sum(p["Sum"] for p in s["Datapoints"])
    return total


def hub_smoke(base_env, cloudwatch, failures):
    """The function in hub mode, invoked with the Kinesis events: every batch succeeds (no
    batchItemFailures), nothing is forwarded, and the ErrorCount per account (the @owner dimension of a
    metric-filter file) equals what the decoded records hold."""
    namespace = NAMESPACE + "Hub"
    filters = os.path.join(EVENT_DIR, "hub-filters.json")
    with open(filters, "w", encoding="utf-8") as f:
        json.dump([{"filterName": "errors", "filterPattern": "ERROR", "metricTransformations": [
            {"metricName": "ErrorCount", "metricNamespace": namespace, "metricValue": "1",
             "dimensions": {"Account": "@owner"}}]}], f)
    env = {k: v for k, v in base_env.items() if k != "LOGRELAY_KINESIS_STREAM_ARN"}
    env.update(LOGRELAY_MODE="hub", LOGRELAY_CONFIG_FILE=filters)
    port = free_port()
    watch, log = start_watch(env, port)
    want = {}
    try:
        for name in HUB_EVENTS:
            out = subprocess.run(["cargo", "lambda", "invoke", "-A", "127.0.0.1", "-P", str(port),
                                  "logrelay", "--data-file", os.path.join(EVENT_DIR, name)],
                                 cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
            if out.returncode != 0:
                failures.append(f"{name} (hub): invoke failed: {out.stdout} {out.stderr}")
                continue
            resp = json.loads(out.stdout)
            ok = resp == {"batchItemFailures": []}
            print(f"invoke {name} (hub): {json.dumps(resp)}", "ok" if ok else "UNEXPECTED")
            if not ok:
                failures.append(f"{name} (hub): unexpected response {resp}")
            for record in decoded(name):
                if record["format"] == "cwl":
                    doc = record["data"]
                    if doc["messageType"] != "DATA_MESSAGE":
                        continue
                    events = [(doc["owner"], e["message"]) for e in doc["logEvents"]]
                else:
                    lines = [json.loads(line) for line in record["lines"]]
                    events = [(line["owner"], line["message"]) for line in lines]
                for owner, message in events:
                    want[owner] = want.get(owner, 0) + ("ERROR" in message)
    finally:
        stop_watch(watch, log)
    for owner, errors in sorted(want.items()):
        got = metric_sum(cloudwatch, namespace, "ErrorCount", ("Account", owner))
        print(f"CloudWatch {namespace}/ErrorCount Account={owner} sum = {got} (expected {errors})")
        if got != errors:
            failures.append(f"hub ErrorCount of {owner}: {got} != {errors}")


def main():
    global EVENT_DIR
    # The committed samples are timestamped in the past, and CloudWatch accepts datapoints up to two
    # weeks old only: make the same samples with current timestamps.
    EVENT_DIR = tempfile.mkdtemp(prefix="logrelay-events-")
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make-sample-events"), "--now",
                    EVENT_DIR], check=True)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                            region_name=REGION)
    kinesis = session.client("kinesis", endpoint_url=ENDPOINT)
    cloudwatch = session.client("cloudwatch", endpoint_url=ENDPOINT)
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamARN"]

    port = free_port()
    env = dict(os.environ,
               AWS_ENDPOINT_URL=ENDPOINT, AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION,
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               LOGRELAY_KINESIS_STREAM_ARN=arn, LOGRELAY_METRICS="put",
               LOGRELAY_METRIC_NAMESPACE=NAMESPACE, LOGRELAY_FORWARD_FORMAT="cwl",
               RUST_LOG="info")
    failures = []
    watch, log = start_watch(env, port)
    try:
        expected_records = 0
        for name in EVENTS:
            out = subprocess.run(["cargo", "lambda", "invoke", "-A", "127.0.0.1", "-P", str(port),
                                  "logrelay", "--data-file", os.path.join(EVENT_DIR, name)],
                                 cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
            if out.returncode != 0:
                failures.append(f"{name}: invoke failed: {out.stdout} {out.stderr}")
                continue
            resp = json.loads(out.stdout)
            doc = decoded(name)
            if doc["messageType"] == "CONTROL_MESSAGE":
                ok = resp.get("control_message") is True and resp.get("records") == 0
            else:
                ok = resp.get("events") == len(doc["logEvents"]) and resp.get("records") == 1
                expected_records += 1
            print(f"invoke {name}: {json.dumps(resp)}", "ok" if ok else "UNEXPECTED")
            if not ok:
                failures.append(f"{name}: unexpected response {resp}")

        shard = kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["Shards"][0]["ShardId"]
        it = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard,
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = kinesis.get_records(ShardIterator=it, Limit=1000)["Records"]
        got = [json.loads(gzip.decompress(r["Data"])) for r in records]
        want = [decoded(n) for n in EVENTS if decoded(n)["messageType"] == "DATA_MESSAGE"]
        print(f"stream {STREAM}: {len(records)} records (expected {expected_records})")
        if got != want:
            failures.append("records read back from Kinesis differ from the sample payloads")
        for r, n in zip(records, [n for n in EVENTS if n != "control-message.json"]):
            with open(os.path.join(EVENT_DIR, n), encoding="utf-8") as f:
                original = base64.b64decode(json.load(f)["awslogs"]["data"])
            if r["Data"] != original:
                failures.append(f"{n}: record is not byte-identical to the payload")

        # One ErrorCount per log group (its dimension): sum them all.
        total = metric_sum(cloudwatch, NAMESPACE, "ErrorCount")
        want_errors = sum("ERROR" in e["message"] for d in want for e in d["logEvents"])
        print(f"CloudWatch {NAMESPACE}/ErrorCount sum = {total} (expected {want_errors})")
        if total != want_errors:
            failures.append(f"ErrorCount sum {total} != {want_errors}")
    finally:
        stop_watch(watch, log)
    hub_smoke(env, cloudwatch, failures)
    invocations = len(EVENTS) + len(HUB_EVENTS)
    if failures:
        print("\n".join(failures), file=sys.stderr)
        print(f"lambda smoke: {invocations} invocations, {len(failures)} failed")
        sys.exit(1)
    print(f"lambda smoke: {invocations} passed, 0 failed")


if __name__ == "__main__":
    main()
