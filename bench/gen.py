#!/usr/bin/env python3
"""Deterministic CloudWatch Logs subscription payloads for the logrelay benchmark.

Writes Lambda event files (``{"awslogs": {"data": "<base64 gzip JSON>"}}``, one payload per file)
in two sets that differ only in events per payload::

    OUT/small/p00000.json ...   500 events per payload (the first file is a CONTROL_MESSAGE)
    OUT/large/p00000.json ...   10,000 events per payload (same)
    OUT/tiny/event.json         one DATA_MESSAGE with one event, for start-up timing
    OUT/configs/*.json          metric filter configs (describe-metric-filters shape)
    OUT/truth.json              ground truth: counts per set, expected metric sums per config

Each payload is one log stream of one of four log groups, weighted by bytes:

- ``/ecs/orders``: Spring Boot text logs, ERROR lines with multi-line Java stack traces;
- ``/aws/lambda/checkout``: Powertools-style JSON logs plus START/END/REPORT lines;
- ``/aws/elasticbeanstalk/prod-web/var/log/nginx/access.log``: nginx access logs (common format);
- ``/ecs/django-admin``: Django verbose logs with Python tracebacks.

Output is a pure function of the arguments: payload ``i`` of a set is generated from a random
generator seeded with ``(seed, set, i)``, gzip runs at level 6 with mtime 0, and sets stop at the
first payload that reaches their share of ``--total-mb``. Ground truth is computed from the
generated messages with simple reference predicates (substring tests for terms, ``json.loads``
for JSON patterns, a regex over the common log format for space-delimited patterns), not from
what the generator meant to write.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterator

FORMAT_VERSION = 3
OWNER = "123456789012"
SUBSCRIPTION_FILTERS = ["central-forwarder"]
NAMESPACE = "Bench"
BASE_TIME_MS = 1_772_323_200_000  # 2026-03-01T00:00:00Z

ORDERS = "/ecs/orders"
CHECKOUT = "/aws/lambda/checkout"
ACCESS = "/aws/elasticbeanstalk/prod-web/var/log/nginx/access.log"
DJANGO = "/ecs/django-admin"
# Share of payloads per log group.
GROUP_WEIGHTS = [(ORDERS, 0.30), (CHECKOUT, 0.25), (ACCESS, 0.30), (DJANGO, 0.15)]

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

CUSTOMERS = ["Ana Souza", "José Müller", "Zoë Chen", "Łukasz Nowak", "Ines Ferreira", "Kenji Satō",
             "Priya Patel", "Olivia Smith", "Mateo García", "Fatima Al-Sayed", "北京客户", "Noah Kim"]
SKUS = ["SKU-10023", "SKU-20481", "SKU-33310", "SKU-40970", "SKU-51207", "SKU-66001", "SKU-70815"]
CURRENCIES = ["EUR", "USD", "GBP", "JPY", "BRL"]
JAVA_THREADS = ["nio-8080-exec-1", "nio-8080-exec-2", "nio-8080-exec-7", "scheduling-1",
                "kafka-consumer-3", "task-4", "main"]
JAVA_INFO = [
    ("c.e.orders.web.OrderController", "Created order {order} for customer {cust} total={amount} {cur}"),
    ("c.e.orders.service.OrderService", "Reserved {qty} x {sku} in warehouse {wh} for order {order}"),
    ("c.e.orders.kafka.OrderEventsPublisher", "Published OrderCreated key={order} partition={part} offset={offset}"),
    ("o.s.web.servlet.DispatcherServlet", "Completed initialization in {ms} ms"),
    ("c.e.orders.service.PricingClient", "Price lookup for {sku} took {ms} ms (cache={cache})"),
    ("c.e.orders.web.HealthController", "GET /actuator/health status=UP db=UP kafka=UP"),
    ("com.zaxxer.hikari.pool.HikariPool", "HikariPool-1 - Pool stats (total={pool}, active={active}, idle={idle}, waiting=0)"),
]
JAVA_DEBUG = [
    ("c.e.orders.repo.OrderRepository", "select o1_0.id,o1_0.customer_id,o1_0.status from orders o1_0 where o1_0.id=? [{order}]"),
    ("c.e.orders.service.OrderService", "Order {order} state transition NEW -> RESERVED"),
]
JAVA_WARN = [
    ("c.e.orders.service.PricingClient", "Slow response from pricing-service: {ms} ms for {sku}, retrying (attempt {attempt}/3)"),
    ("c.e.orders.kafka.OrderEventsPublisher", "Retrying send of OrderCreated key={order} after TimeoutException"),
    ("o.h.engine.jdbc.spi.SqlExceptionHelper", "SQL Warning Code: 0, SQLState: 01000"),
]
JAVA_ERROR = [
    ("c.e.orders.web.GlobalExceptionHandler", "Unhandled exception processing POST /api/v1/orders"),
    ("c.e.orders.service.PaymentClient", "Payment authorization failed for order {order}: upstream returned 502"),
    ("c.e.orders.kafka.OrderEventsPublisher", "Failed to publish OrderCreated key={order}"),
    ("c.e.orders.service.InventoryService", "Stock reservation failed for {sku}"),
]
JAVA_EXCEPTIONS = [
    "java.lang.IllegalStateException: Order {order} is not in state NEW",
    "java.lang.NullPointerException: Cannot invoke \"com.example.orders.domain.Customer.getId()\" because \"customer\" is null",
    "org.springframework.web.client.HttpServerErrorException$BadGateway: 502 Bad Gateway: \"{{\"error\":\"upstream\"}}\"",
    "org.apache.kafka.common.errors.TimeoutException: Expiring 3 record(s) for orders-events-2: 30012 ms has passed since batch creation",
    "org.springframework.dao.DataIntegrityViolationException: could not execute statement; constraint [orders_pkey]",
]
JAVA_CAUSES = [
    "java.net.SocketTimeoutException: Read timed out",
    "org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint \"orders_pkey\"",
    "java.io.IOException: Broken pipe",
]
JAVA_FRAMES = [
    "com.example.orders.service.OrderService.create(OrderService.java:{line})",
    "com.example.orders.service.PaymentClient.authorize(PaymentClient.java:{line})",
    "com.example.orders.web.OrderController.create(OrderController.java:{line})",
    "org.springframework.web.client.RestTemplate.doExecute(RestTemplate.java:{line})",
    "org.springframework.aop.framework.ReflectiveMethodInvocation.proceed(ReflectiveMethodInvocation.java:{line})",
    "org.springframework.transaction.interceptor.TransactionInterceptor.invoke(TransactionInterceptor.java:{line})",
    "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:{line})",
    "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:{line})",
    "org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:{line})",
    "org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:{line})",
    "java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:{line})",
    "java.base/java.lang.Thread.run(Thread.java:{line})",
    "org.apache.kafka.clients.producer.KafkaProducer.doSend(KafkaProducer.java:{line})",
    "org.hibernate.engine.jdbc.spi.SqlExceptionHelper.convert(SqlExceptionHelper.java:{line})",
]

LAMBDA_INFO = [
    ("handler:{line}", "Processing checkout", "checkout_started"),
    ("charge_card:{line}", "Card authorized", "payment_authorized"),
    ("reserve_stock:{line}", "Stock reserved", "stock_reserved"),
    ("emit_receipt:{line}", "Receipt email queued", "receipt_queued"),
]
LAMBDA_WARN = [
    ("charge_card:{line}", "Payment provider slow, retrying", "payment_retry"),
    ("charge_card:{line}", "Card declined by issuer", "payment_declined"),
]
LAMBDA_ERROR = [
    ("handler:{line}", "Checkout failed", "checkout_failed", "KeyError", "KeyError: 'shipping_address'"),
    ("charge_card:{line}", "Payment provider error", "payment_error", "TimeoutError",
     "TimeoutError: The read operation timed out"),
    ("reserve_stock:{line}", "Inventory service unavailable", "inventory_error", "ClientError",
     "botocore.exceptions.ClientError: An error occurred (ConditionalCheckFailedException) when calling the UpdateItem operation: The conditional request failed"),
]

PATHS = ["/", "/api/v1/orders", "/api/v1/orders/{order}", "/api/v1/cart", "/api/v1/cart/items",
         "/static/js/app.{hex8}.js", "/static/css/site.{hex8}.css", "/health", "/login",
         "/api/v1/products?page={page}&size=20", "/api/v1/search?q=shoes+{page}", "/favicon.ico"]
METHODS = [("GET", 0.78), ("POST", 0.15), ("PUT", 0.04), ("DELETE", 0.02), ("HEAD", 0.01)]
STATUSES = [(200, 0.78), (201, 0.03), (204, 0.02), (301, 0.01), (304, 0.06), (400, 0.015),
            (401, 0.01), (403, 0.005), (404, 0.04), (499, 0.005), (500, 0.01), (502, 0.008),
            (503, 0.005), (504, 0.002)]
USERS = ["-"] * 9 + ["alice", "bob", "svc-monitor"]

DJANGO_INFO = [
    ("basehttp", "\"GET /admin/orders/order/?p={page} HTTP/1.1\" 200 {bytes}"),
    ("basehttp", "\"POST /admin/orders/order/{order}/change/ HTTP/1.1\" 302 0"),
    ("views", "Admin {user} exported {qty} orders to CSV"),
    ("tasks", "Celery task orders.tasks.sync_inventory[{uuid}] succeeded in {sec}s"),
]
DJANGO_WARN = [
    ("log", "Not Found: /admin/orders/order/{order}/change/"),
    ("log", "Forbidden (Permission denied): /admin/auth/user/"),
    ("middleware", "Slow request {ms} ms: GET /admin/orders/order/"),
]
DJANGO_ERROR = [
    ("log", "Internal Server Error: /admin/orders/order/{order}/change/",
     "django.db.utils.OperationalError: could not connect to server: Connection timed out"),
    ("log", "Internal Server Error: /admin/orders/order/",
     "KeyError: 'warehouse'"),
    ("tasks", "Task orders.tasks.sync_inventory[{uuid}] raised unexpected: ValueError('negative stock')",
     "ValueError: negative stock"),
]
PY_FRAMES = [
    ("/usr/local/lib/python3.12/site-packages/django/core/handlers/exception.py", "inner",
     "response = get_response(request)"),
    ("/usr/local/lib/python3.12/site-packages/django/core/handlers/base.py", "_get_response",
     "response = wrapped_callback(request, *callback_args, **callback_kwargs)"),
    ("/usr/local/lib/python3.12/site-packages/django/contrib/admin/options.py", "wrapper",
     "return self.admin_site.admin_view(view)(*args, **kwargs)"),
    ("/app/orders/admin.py", "change_view", "stock = self.inventory.level(obj.sku)"),
    ("/app/orders/inventory.py", "level", "return self._cache[sku]['warehouse']"),
    ("/usr/local/lib/python3.12/site-packages/django/db/backends/base/base.py", "ensure_connection",
     "self.connect()"),
]


def weighted(rng: random.Random, items: list[tuple[Any, float]]) -> Any:
    """Picks one value of ``(value, weight)`` pairs."""
    x = rng.random() * sum(w for _, w in items)
    for value, w in items:
        x -= w
        if x < 0:
            return value
    return items[-1][0]


def hex_id(rng: random.Random, n: int) -> str:
    return "%0*x" % (n, rng.getrandbits(4 * n))


def uuid4(rng: random.Random) -> str:
    h = hex_id(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


_FIELDS: dict[str, Callable[[random.Random], Any]] = {
    "order": lambda r: r.randrange(100000, 999999),
    "cust": lambda r: r.choice(CUSTOMERS),
    "amount": lambda r: f"{r.randrange(100, 50000) / 100:.2f}",
    "cur": lambda r: r.choice(CURRENCIES),
    "qty": lambda r: r.randrange(1, 12),
    "sku": lambda r: r.choice(SKUS),
    "wh": lambda r: r.choice(["FRA1", "DUB2", "IAD3"]),
    "part": lambda r: r.randrange(0, 12),
    "offset": lambda r: r.randrange(10**6, 10**9),
    "ms": lambda r: r.randrange(1, 4000),
    "cache": lambda r: r.choice(["hit", "miss"]),
    "pool": lambda r: 10,
    "active": lambda r: r.randrange(0, 10),
    "idle": lambda r: r.randrange(0, 10),
    "attempt": lambda r: r.randrange(1, 4),
    "line": lambda r: r.randrange(20, 900),
    "page": lambda r: r.randrange(1, 40),
    "bytes": lambda r: r.randrange(500, 90000),
    "user": lambda r: r.choice(USERS[9:]),
    "uuid": uuid4,
    "sec": lambda r: f"{r.random() * 3:.3f}",
    "hex8": lambda r: hex_id(r, 8),
}


class _Fields(dict):
    """Template values drawn on first use, so a template pays only for the fields it names."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> Any:
        value = _FIELDS[key](self.rng)
        self[key] = value
        return value


def fill(rng: random.Random, template: str) -> str:
    if "{" not in template:
        return template
    return template.format_map(_Fields(rng))


def iso(ts_ms: int, sep: str = " ", frac_sep: str = ".") -> str:
    s, ms = divmod(ts_ms, 1000)
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    day = 1 + d % 28
    return f"2026-03-{day:02d}{sep}{h:02d}:{m:02d}:{sec:02d}{frac_sep}{ms:03d}"


def clf_time(ts_ms: int) -> str:
    s = ts_ms // 1000
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    return f"{1 + d % 28:02d}/Mar/2026:{h:02d}:{m:02d}:{sec:02d} +0000"


# ---------------------------------------------------------------------------------------------
# Messages per log group
# ---------------------------------------------------------------------------------------------


def java_trace(rng: random.Random) -> str:
    lines = [fill(rng, rng.choice(JAVA_EXCEPTIONS))]
    for _ in range(rng.randrange(8, 36)):
        lines.append("\tat " + fill(rng, rng.choice(JAVA_FRAMES)))
    if rng.random() < 0.4:
        lines.append("Caused by: " + rng.choice(JAVA_CAUSES))
        for _ in range(rng.randrange(3, 10)):
            lines.append("\tat " + fill(rng, rng.choice(JAVA_FRAMES)))
        lines.append(f"\t... {rng.randrange(10, 60)} common frames omitted")
    return "\n".join(lines)


def orders_message(rng: random.Random, ts: int) -> str:
    r = rng.random()
    if r < 0.05:
        level, (logger, text) = "ERROR", rng.choice(JAVA_ERROR)
    elif r < 0.12:
        level, (logger, text) = " WARN", rng.choice(JAVA_WARN)
    elif r < 0.20:
        level, (logger, text) = "DEBUG", rng.choice(JAVA_DEBUG)
    else:
        level, (logger, text) = " INFO", rng.choice(JAVA_INFO)
    msg = (f"{iso(ts)}  {level} 1 --- [orders] [{rng.choice(JAVA_THREADS):>15}] "
           f"{logger:<40} : {fill(rng, text)}")
    if level == "ERROR" and rng.random() < 0.7:
        msg += "\n" + java_trace(rng)
    return msg


def checkout_messages(rng: random.Random, ts: int) -> list[str]:
    """One Lambda invocation: START, a few JSON lines, END, REPORT (sometimes a timeout)."""
    request_id = uuid4(rng)
    cold = rng.random() < 0.03
    out = [f"START RequestId: {request_id} Version: $LATEST\n"]
    order_id = f"ord_{hex_id(rng, 12)}"
    trace = f"1-{hex_id(rng, 8)}-{hex_id(rng, 24)}"
    for i in range(rng.randrange(2, 6)):
        r = rng.random()
        record: dict[str, Any]
        if r < 0.06:
            location, message, event, exc_name, exc_last = rng.choice(LAMBDA_ERROR)
            level = "ERROR"
        elif r < 0.16:
            (location, message, event), level = rng.choice(LAMBDA_WARN), "WARNING"
        elif r < 0.22:
            (location, message, event), level = rng.choice(LAMBDA_INFO), "DEBUG"
        else:
            (location, message, event), level = rng.choice(LAMBDA_INFO), "INFO"
        latency = int(rng.lognormvariate(4.5, 1.0))
        status = 500 if level == "ERROR" else (402 if event == "payment_declined" else 200)
        record = {
            "level": level,
            "location": fill(rng, location),
            "message": message,
            "timestamp": iso(ts + i, " ", ",") + "+0000",
            "service": "checkout",
            "cold_start": cold and i == 0,
            "function_name": "checkout",
            "function_memory_size": "512",
            "function_arn": "arn:aws:lambda:eu-west-1:123456789012:function:checkout",
            "function_request_id": request_id,
            "xray_trace_id": trace,
            "event": event,
            "order_id": order_id,
            "customer": {"name": rng.choice(CUSTOMERS), "tier": rng.choice(["free", "plus", "pro"])},
            "http": {"method": "POST", "path": "/checkout", "status": status},
            "latency_ms": latency,
        }
        if level == "ERROR":
            record["exception_name"] = exc_name
            frames = "".join(
                f'  File "/var/task/checkout/{rng.choice(["app", "payments", "stock"])}.py", '
                f'line {rng.randrange(10, 400)}, in {rng.choice(["handler", "charge_card", "reserve_stock", "_call"])}\n'
                f'    {rng.choice(["return client.post(url, json=body)", "addr = order[key]", "table.update_item(**kw)"])}\n'
                for _ in range(rng.randrange(2, 7)))
            record["exception"] = "Traceback (most recent call last):\n" + frames + exc_last
        out.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
    duration = rng.lognormvariate(4.0, 0.8)
    if rng.random() < 0.005:
        out.append(f"{iso(ts)}Z {request_id} Task timed out after 6.01 seconds\n\n")
        duration = 6010.0
    out.append(f"END RequestId: {request_id}\n")
    out.append(f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: "
               f"{int(duration) + 1} ms\tMemory Size: 512 MB\tMax Memory Used: {rng.randrange(70, 140)} MB\t\n")
    return out


def access_message(rng: random.Random, ts: int) -> str:
    method = weighted(rng, METHODS)
    status = weighted(rng, STATUSES)
    path = fill(rng, rng.choice(PATHS))
    ip = f"{rng.choice([10, 172, 203, 198])}.{rng.randrange(0, 255)}.{rng.randrange(0, 255)}.{rng.randrange(1, 255)}"
    size = 0 if status in (204, 304) else rng.randrange(150, 60000)
    return (f'{ip} - {rng.choice(USERS)} [{clf_time(ts)}] "{method} {path} HTTP/1.1" '
            f"{status} {size}")


def py_traceback(rng: random.Random, last: str) -> str:
    frames = rng.sample(PY_FRAMES, rng.randrange(3, len(PY_FRAMES) + 1))
    body = "".join(f'  File "{f}", line {rng.randrange(20, 800)}, in {fn}\n    {code}\n'
                   for f, fn, code in frames)
    return "Traceback (most recent call last):\n" + body + last


def django_message(rng: random.Random, ts: int) -> str:
    r = rng.random()
    thread = rng.randrange(139_000_000_000_000, 140_999_999_999_999)
    head = f"{iso(ts, ' ', ',')} "
    if r < 0.06:
        module, text, last = rng.choice(DJANGO_ERROR)
        return (f"ERROR {head}{module} 7 {thread} {fill(rng, text)}\n" + py_traceback(rng, last))
    if r < 0.14:
        module, text = rng.choice(DJANGO_WARN)
        return f"WARNING {head}{module} 7 {thread} {fill(rng, text)}"
    module, text = rng.choice(DJANGO_INFO)
    return f"INFO {head}{module} 7 {thread} {fill(rng, text)}"


def stream_name(rng: random.Random, group: str) -> str:
    if group == ORDERS:
        return f"ecs/orders/{hex_id(rng, 32)}"
    if group == DJANGO:
        return f"ecs/django-admin/{hex_id(rng, 32)}"
    if group == CHECKOUT:
        return f"2026/03/01/[$LATEST]{hex_id(rng, 32)}"
    return f"i-0{hex_id(rng, 16)}"


def messages(rng: random.Random, group: str, start_ms: int, count: int) -> Iterator[tuple[int, str]]:
    """Yields ``count`` (timestamp, message) pairs of one log stream."""
    ts = start_ms
    produced = 0
    while produced < count:
        ts += rng.randrange(0, 40)
        if group == CHECKOUT:
            for m in checkout_messages(rng, ts):
                if produced == count:
                    break
                yield ts, m
                produced += 1
            continue
        if group == ORDERS:
            yield ts, orders_message(rng, ts)
        elif group == ACCESS:
            yield ts, access_message(rng, ts)
        else:
            yield ts, django_message(rng, ts)
        produced += 1


def event_id(rng: random.Random) -> str:
    """A 56-digit string id, the shape CloudWatch Logs sends."""
    return str(rng.randrange(10**55, 10**56))


# ---------------------------------------------------------------------------------------------
# Ground truth: reference predicates
# ---------------------------------------------------------------------------------------------

CLF = re.compile(r'^(\S+) (\S+) (\S+) \[([^\]]*)\] "([^"]*)" (\S+) (\S+)$')


@dataclass(frozen=True)
class Filter:
    """One metric filter and its reference semantics on the messages this generator writes."""

    name: str
    pattern: str
    # (message, parsed JSON object or None, CLF fields or None) -> metric value or None
    value: Callable[[str, "dict | None", "tuple | None"], "float | None"]
    group: str | None = None
    metric_value: str = "1"


def needles(pred: Callable, *strings: str) -> Callable:
    """Marks ``pred`` as matching only messages that contain at least one of ``strings``.

    A necessary condition, used to skip a filter for a whole payload when none of the strings
    occurs in it; it never decides a match on its own.
    """
    pred.needles = strings  # type: ignore[attr-defined]
    return pred


def term(*words: str) -> Callable:
    return needles(lambda m, j, a: 1 if all(w in m for w in words) else None, words[0])


def any_term(*words: str) -> Callable:
    return needles(lambda m, j, a: 1 if any(w in m for w in words) else None, *words)


def term_not(word: str, excluded: str) -> Callable:
    return needles(lambda m, j, a: 1 if word in m and excluded not in m else None, word)


def jpath(obj: Any, path: str) -> Any:
    """``$.a.b`` on a parsed object; a missing step gives ``KeyError``."""
    for step in path.split(".")[1:]:
        if not isinstance(obj, dict) or step not in obj:
            raise KeyError(step)
        obj = obj[step]
    return obj


def is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def json_eq(path: str, want: Any) -> Callable:
    def f(m, j, a):
        if j is None:
            return None
        try:
            v = jpath(j, path)
        except KeyError:
            return None
        if isinstance(want, str):
            return 1 if isinstance(v, str) and v == want else None
        return 1 if is_num(v) and v == want else None
    return needles(f, '"' + path.split(".")[-1] + '"')


def json_cmp(path: str, op: str, bound: float, value_path: str | None = None) -> Callable:
    ops = {">": lambda x: x > bound, ">=": lambda x: x >= bound, "<": lambda x: x < bound,
           "<=": lambda x: x <= bound, "!=": lambda x: x != bound}

    def f(m, j, a):
        if j is None:
            return None
        try:
            v = jpath(j, path)
        except KeyError:
            return None
        if not is_num(v) or not ops[op](v):
            return None
        return jpath(j, value_path) if value_path else 1
    return needles(f, '"' + path.split(".")[-1] + '"')


def json_and(*preds: Callable) -> Callable:
    f = lambda m, j, a: 1 if all(p(m, j, a) is not None for p in preds) else None  # noqa: E731
    return needles(f, *preds[0].needles)


def json_is_true(path: str) -> Callable:
    def f(m, j, a):
        if j is None:
            return None
        try:
            return 1 if jpath(j, path) is True else None
        except KeyError:
            return None
    return needles(f, '"' + path.split(".")[-1] + '"')


def clf(pred: Callable[[tuple], bool], value_field: int | None = None) -> Callable:
    def f(m, j, a):
        if a is None or not pred(a):
            return None
        return int(a[value_field]) if value_field is not None else 1
    return f


SPACE = "[ip, id, user, ts, request, status{s}, bytes{b}]"


def filters_100() -> list[Filter]:
    """A realistic set of 100 metric filters: a few that match, most that never do."""
    fs = [
        Filter("ErrorCount", "ERROR", term("ERROR")),
        Filter("JsonErrorCount", '{ $.level = "ERROR" }', json_eq("$.level", "ERROR")),
        Filter("Http5xxCount", SPACE.format(s="=5*", b=""), clf(lambda a: a[5].startswith("5")), ACCESS),
        Filter("Http5xxBytes", SPACE.format(s="=5*", b=""), clf(lambda a: a[5].startswith("5"), 6),
               ACCESS, "$bytes"),
        Filter("Http404Count", SPACE.format(s="=404", b=""), clf(lambda a: a[5] == "404"), ACCESS),
        Filter("WarnCount", "WARN", term("WARN")),
        Filter("ExceptionCount", "Exception", term("Exception")),
        Filter("InternalServerErrorCount", '"Internal Server Error"', term("Internal Server Error")),
        Filter("JsonWarningCount", '{ $.level = "WARNING" }', json_eq("$.level", "WARNING"), CHECKOUT),
        Filter("CheckoutSlowLatencySum", "{ $.latency_ms >= 1000 }",
               json_cmp("$.latency_ms", ">=", 1000, "$.latency_ms"), CHECKOUT, "$.latency_ms"),
        Filter("LambdaReportCount", "REPORT RequestId", term("REPORT", "RequestId"), CHECKOUT),
        Filter("TimeoutAny", "?Timeout ?timed", any_term("Timeout", "timed")),
        Filter("ErrorWithoutTraceback", "ERROR -Traceback", term_not("ERROR", "Traceback")),
        Filter("OrdersCreated", "Created order", term("Created", "order"), ORDERS),
        Filter("PaymentDeclined", '{ $.event = "payment_declined" }',
               json_eq("$.event", "payment_declined"), CHECKOUT),
        Filter("ColdStarts", "{ $.cold_start IS TRUE }", json_is_true("$.cold_start"), CHECKOUT),
    ]
    absent_terms = [
        "OutOfMemoryError", "StackOverflowError", "SIGKILL", "SIGSEGV", '"Segmentation fault"',
        "PANIC", "FATAL", "CRITICAL", '"Connection reset by peer"', "ECONNREFUSED",
        '"Too many open files"', "Deadlock", '"Lock wait timeout exceeded"', '"No space left on device"',
        '"certificate has expired"', '"SSL handshake failed"', "RebalanceInProgressException",
        "ThrottlingException", "ProvisionedThroughputExceededException", "AccessDeniedException",
        '"Rate exceeded"', "Runtime.ExitError", "Runtime.OutOfMemory", '"Killed process"',
        "CircuitBreakerOpenException", "UnknownHostException", "NoSuchKey", "ExpiredToken",
        "OptimisticLockException", "SuspiciousOperation", "DisallowedHost",
        '"CSRF verification failed"', "IntegrityError", "ProgrammingError", "ImproperlyConfigured",
        "MemoryError", "RecursionError", "ConnectionRefusedError", "BrokenPipeError",
        "ConcurrentModificationException", "DeadlineExceeded",
        '"Max retries exceeded"', "ClassNotFoundException", "NoClassDefFoundError",
    ]
    for w in absent_terms:
        name = re.sub(r"[^A-Za-z0-9]", "", w.title() if " " in w else w) + "Count"
        # A term with characters other than letters, digits and underscore must be quoted.
        pattern = w if w.startswith('"') or re.fullmatch(r"\w+", w) else f'"{w}"'
        fs.append(Filter(name, pattern, term(w.strip('"'))))
    fs += [
        Filter("FatalOrCritical", "?FATAL ?CRITICAL ?EMERG", any_term("FATAL", "CRITICAL", "EMERG")),
        Filter("PaymentGatewayErrorsNoRetry", "ERROR PaymentGateway -retry",
               needles(lambda m, j, a: 1 if "ERROR" in m and "PaymentGateway" in m and "retry" not in m
                       else None, "PaymentGateway")),
        Filter("HikariExhausted", '"Connection is not available"', term("Connection is not available"), ORDERS),
        Filter("KafkaFenced", "ProducerFencedException", term("ProducerFencedException"), ORDERS),
    ]
    absent_json = [
        ("JsonCriticalCount", '{ $.level = "CRITICAL" }', json_eq("$.level", "CRITICAL")),
        ("Http418", "{ $.http.status = 418 }", json_eq("$.http.status", 418)),
        ("LatencyOver60s", "{ $.latency_ms > 60000 }", json_cmp("$.latency_ms", ">", 60000)),
        ("BillingServiceLogs", '{ $.service = "billing" }', json_eq("$.service", "billing")),
        ("DbDownCode", '{ $.error.code = "E_DB_DOWN" }', json_eq("$.error.code", "E_DB_DOWN")),
        ("LegacyPlan5xx", '{ $.customer.tier = "legacy" && $.http.status >= 500 }',
         json_and(json_eq("$.customer.tier", "legacy"), json_cmp("$.http.status", ">=", 500))),
        ("RefundIssued", '{ $.event = "refund_issued" }', json_eq("$.event", "refund_issued")),
        ("FraudFlagged", '{ $.event = "fraud_flagged" }', json_eq("$.event", "fraud_flagged")),
        ("QueueBacklog", "{ $.queue_depth > 1000 }", json_cmp("$.queue_depth", ">", 1000)),
        ("NegativeLatency", "{ $.latency_ms < 0 }", json_cmp("$.latency_ms", "<", 0)),
        ("ChargebackCount", '{ $.event = "chargeback" }', json_eq("$.event", "chargeback")),
        ("PutHttpErrors", '{ $.http.method = "PUT" && $.http.status = 500 }',
         json_and(json_eq("$.http.method", "PUT"), json_eq("$.http.status", 500))),
        ("EnterpriseTier", '{ $.customer.tier = "enterprise" }', json_eq("$.customer.tier", "enterprise")),
        ("StatusCode599", "{ $.http.status = 599 }", json_eq("$.http.status", 599)),
        ("DeprecatedApi", '{ $.http.path = "/v0/checkout" }', json_eq("$.http.path", "/v0/checkout")),
        ("SecurityAlert", '{ $.security.alert IS TRUE }', json_is_true("$.security.alert")),
        ("DlqMessages", '{ $.event = "sent_to_dlq" }', json_eq("$.event", "sent_to_dlq")),
        ("CanaryFailures", '{ $.canary = "failed" }', json_eq("$.canary", "failed")),
        ("InventoryNegative", "{ $.stock_level < 0 }", json_cmp("$.stock_level", "<", 0)),
        ("AuthFailures", '{ $.event = "login_failed" }', json_eq("$.event", "login_failed")),
        ("CouponAbuse", '{ $.event = "coupon_rejected" && $.customer.tier = "free" }',
         json_and(json_eq("$.event", "coupon_rejected"), json_eq("$.customer.tier", "free"))),
        ("LargePayloads", "{ $.payload_bytes > 1048576 }", json_cmp("$.payload_bytes", ">", 1048576)),
        ("DebugInProd", '{ $.level = "TRACE" }', json_eq("$.level", "TRACE")),
        ("RetryStorm", "{ $.retry_count >= 5 }", json_cmp("$.retry_count", ">=", 5)),
    ]
    for i, (name, pattern, pred) in enumerate(absent_json):
        fs.append(Filter(name, pattern, pred, CHECKOUT if i % 2 else None))
    absent_space = [
        ("Http418Access", SPACE.format(s="=418", b=""), lambda a: a[5] == "418"),
        ("Http599Access", SPACE.format(s="=599", b=""), lambda a: a[5] == "599"),
        ("WpLoginProbes", "[ip, id, user, ts, request=*wp-login*, status, bytes]", lambda a: "wp-login" in a[4]),
        ("EnvFileProbes", "[ip, id, user, ts, request=*.env*, status, bytes]", lambda a: ".env" in a[4]),
        ("HugeResponses", SPACE.format(s="", b=">100000000"), lambda a: int(a[6]) > 100000000),
        ("AdminUser", "[ip, id, user=root, ts, request, status, bytes]", lambda a: a[2] == "root"),
        ("PatchRequests", "[ip, id, user, ts, request=*PATCH*, status, bytes]", lambda a: "PATCH" in a[4]),
        ("InternalProbe", "[ip=192.0.2.*, id, user, ts, request, status, bytes]", lambda a: a[0].startswith("192.0.2.")),
        ("Http505", "[..., status=505, bytes]", lambda a: a[5] == "505"),
        ("Http429", "[..., status=429, bytes]", lambda a: a[5] == "429"),
        ("TraceMethod", "[ip, id, user, ts, request=*TRACE*, status, bytes]", lambda a: "TRACE" in a[4]),
        ("CgiBin", "[ip, id, user, ts, request=*cgi-bin*, status, bytes]", lambda a: "cgi-bin" in a[4]),
    ]
    for name, pattern, pred in absent_space:
        fs.append(Filter(name, pattern, clf(pred), ACCESS))
    if len(fs) != 100:
        raise AssertionError(f"filters_100 has {len(fs)} filters")
    if len({f.name for f in fs}) != 100:
        raise AssertionError("filters_100 metric names are not unique")
    return fs


def configs() -> dict[str, list[Filter]]:
    """The metric filter configs the benchmark runs, by name."""
    all100 = {f.name: f for f in filters_100()}
    return {
        "error": [all100["ErrorCount"]],
        "json": [all100["JsonErrorCount"]],
        "space": [all100["Http5xxCount"]],
        "f100": list(all100.values()),
    }


def config_json(filters: list[Filter]) -> dict:
    """The ``aws logs describe-metric-filters`` document for ``filters``."""
    out = []
    for i, f in enumerate(filters):
        item: dict[str, Any] = {
            "filterName": f"bench-{i:03d}-{f.name}",
            "filterPattern": f.pattern,
            "metricTransformations": [
                {"metricName": f.name, "metricNamespace": NAMESPACE, "metricValue": f.metric_value}],
            "creationTime": BASE_TIME_MS,
        }
        if f.group:
            item["logGroupName"] = f.group
        out.append(item)
    return {"metricFilters": out}


# ---------------------------------------------------------------------------------------------
# Payloads
# ---------------------------------------------------------------------------------------------


def lambda_event(document: dict) -> tuple[bytes, int, int]:
    """(event file bytes, uncompressed payload bytes, compressed bytes) of one payload."""
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    packed = gzip.compress(raw, compresslevel=6, mtime=0)
    event = json.dumps({"awslogs": {"data": base64.b64encode(packed).decode("ascii")}}).encode()
    return event, len(raw), len(packed)


def control_message() -> dict:
    return {
        "messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [{"id": "", "timestamp": BASE_TIME_MS,
                       "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}],
    }


def make_payload(args: tuple[int, str, int, int]) -> dict:
    """Payload ``index`` of set ``set_name``: its event file bytes and its ground-truth counts."""
    seed, set_name, index, events = args
    rng = random.Random(f"{seed}/{set_name}/{index}")
    group = weighted(rng, GROUP_WEIGHTS)
    start = BASE_TIME_MS + index * 600_000 + rng.randrange(0, 60_000)
    log_events = []
    for ts, msg in messages(rng, group, start, events):
        log_events.append({"id": event_id(rng), "timestamp": ts, "message": msg})
    document = {
        "messageType": "DATA_MESSAGE", "owner": OWNER, "logGroup": group,
        "logStream": stream_name(rng, group), "subscriptionFilters": SUBSCRIPTION_FILTERS,
        "logEvents": log_events,
    }
    event, raw_len, packed_len = lambda_event(document)
    return {"event": event, "uncompressed_bytes": raw_len, "compressed_bytes": packed_len,
            "group": group, "events": len(log_events),
            "metrics": evaluate(group, [e["message"] for e in log_events])}


def evaluate(group: str, msgs: list[str]) -> dict[str, dict[str, float]]:
    """Expected metric sums of every filter of ``filters_100`` over one payload's messages."""
    fs = filters_100()
    sums: dict[str, float] = {f.name: 0 for f in fs}
    joined = "\x00".join(msgs)
    active = [f for f in fs if f.group in (None, group)
              and any(n in joined for n in getattr(f.value, "needles", ("",)))]
    if not active:
        return {"sums": sums}
    for m in msgs:
        j = None
        if m.startswith("{"):
            try:
                parsed = json.loads(m)
                j = parsed if isinstance(parsed, dict) else None
            except ValueError:
                j = None
        a = None
        if group == ACCESS:
            match = CLF.match(m)
            a = match.groups() if match else None
        for f in active:
            v = f.value(m, j, a)
            if v is not None:
                sums[f.name] += v
    return {"sums": sums}


def generate_set(out_dir: str, seed: int, set_name: str, events: int, target_bytes: int,
                 jobs: int) -> dict:
    """Writes one set; returns its ground truth."""
    set_dir = os.path.join(out_dir, set_name)
    os.makedirs(set_dir, exist_ok=True)
    ctrl, ctrl_raw, ctrl_packed = lambda_event(control_message())
    with open(os.path.join(set_dir, "p00000.json"), "wb") as fh:
        fh.write(ctrl)
    truth: dict[str, Any] = {
        "events_per_payload": events, "payloads": 1, "control_messages": 1, "data_payloads": 0,
        "events": 0, "error_events": 0, "uncompressed_bytes": ctrl_raw,
        "compressed_bytes": ctrl_packed, "event_file_bytes": len(ctrl),
        "events_by_group": {}, "metric_sums": {n: 0 for n in (f.name for f in filters_100())},
    }
    total = 0
    index = 0

    def tasks() -> Iterator[tuple[int, str, int, int]]:
        i = 1
        while True:
            yield (seed, set_name, i, events)
            i += 1

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs) as pool:
        for p in pool.imap(make_payload, tasks(), chunksize=1):
            index += 1
            with open(os.path.join(set_dir, f"p{index:05d}.json"), "wb") as fh:
                fh.write(p["event"])
            truth["payloads"] += 1
            truth["data_payloads"] += 1
            truth["events"] += p["events"]
            truth["uncompressed_bytes"] += p["uncompressed_bytes"]
            truth["compressed_bytes"] += p["compressed_bytes"]
            truth["event_file_bytes"] += len(p["event"])
            g = truth["events_by_group"]
            g[p["group"]] = g.get(p["group"], 0) + p["events"]
            for name, v in p["metrics"]["sums"].items():
                truth["metric_sums"][name] += v
            total += p["uncompressed_bytes"]
            if total >= target_bytes:
                pool.terminate()
                break
    truth["error_events"] = truth["metric_sums"]["ErrorCount"]
    return truth


def main(argv: list[str] | None = None) -> int:
    global BASE_TIME_MS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory (replaced)")
    ap.add_argument("--total-mb", type=float, default=200.0,
                    help="uncompressed payload JSON in total, MB (10^6 bytes), split between the sets")
    ap.add_argument("--seed", type=int, default=20260301)
    ap.add_argument("--small-events", type=int, default=500)
    ap.add_argument("--large-events", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--base-time-ms", type=int, default=BASE_TIME_MS,
                    help="timestamp of the first payload (default 2026-03-01); payload i starts i × 10 min "
                         "later. bench/cost gives a recent time: CloudWatch takes datapoints up to two weeks old")
    args = ap.parse_args(argv)
    if args.total_mb <= 0 or args.small_events < 1 or args.large_events < 1:
        ap.error("sizes must be positive")

    with open(__file__, "rb") as fh:
        source_digest = hashlib.sha256(fh.read()).hexdigest()[:16]
    params = {"format": FORMAT_VERSION, "generator": source_digest, "total_mb": args.total_mb, "seed": args.seed,
              "small_events": args.small_events, "large_events": args.large_events}
    if args.base_time_ms != BASE_TIME_MS:
        params["base_time_ms"] = args.base_time_ms
        # Read by make_payload and the tiny event; the generating processes are forked after this.
        BASE_TIME_MS = args.base_time_ms
    truth_path = os.path.join(args.out, "truth.json")
    if os.path.exists(truth_path):
        with open(truth_path, encoding="utf-8") as fh:
            try:
                if json.load(fh).get("params") == params:
                    print(f"gen: reusing {args.out} (same parameters)", file=sys.stderr)
                    return 0
            except ValueError:
                pass
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)

    half = int(args.total_mb * 1e6 / 2)
    sets = {}
    for name, events in (("small", args.small_events), ("large", args.large_events)):
        sets[name] = generate_set(args.out, args.seed, name, events, half, max(1, args.jobs))
        print(f"gen: {name}: {sets[name]['payloads']} payloads, {sets[name]['events']} events, "
              f"{sets[name]['uncompressed_bytes'] / 1e6:.1f} MB uncompressed", file=sys.stderr)

    tiny_dir = os.path.join(args.out, "tiny")
    os.makedirs(tiny_dir)
    tiny_doc = {"messageType": "DATA_MESSAGE", "owner": OWNER, "logGroup": ORDERS,
                "logStream": "ecs/orders/0123456789abcdef0123456789abcdef",
                "subscriptionFilters": SUBSCRIPTION_FILTERS,
                "logEvents": [{"id": "3" * 56, "timestamp": BASE_TIME_MS,
                               "message": f"{iso(BASE_TIME_MS)}  ERROR 1 --- [orders] [main] start-up probe"}]}
    with open(os.path.join(tiny_dir, "event.json"), "wb") as fh:
        fh.write(lambda_event(tiny_doc)[0])

    cfg_dir = os.path.join(args.out, "configs")
    os.makedirs(cfg_dir)
    expected: dict[str, dict] = {}
    for cname, filters in configs().items():
        with open(os.path.join(cfg_dir, f"{cname}.json"), "w", encoding="utf-8") as fh:
            json.dump(config_json(filters), fh, indent=1, ensure_ascii=False)
        expected[cname] = {s: {f.name: sets[s]["metric_sums"][f.name] for f in filters} for s in sets}

    with open(truth_path, "w", encoding="utf-8") as fh:
        json.dump({"params": params, "namespace": NAMESPACE, "sets": sets, "expected_metrics": expected,
                   "tiny": {"events": 1, "error_events": 1}}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
