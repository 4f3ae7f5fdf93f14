#!/usr/bin/env python3
"""Turns the benchmark's ``results.json`` into a table, a markdown page, an SVG chart and a cost estimate.

Usage: ``report.py --results bench/out/results.json [--markdown bench/results.md] [--svg bench/ratios.svg]``

Prints the table, the targets, the start-up times and the Lambda cost estimate on stdout. The chart
is hand-written SVG (no plotting library) with two panels: logrelay's events/s as a multiple of the
powertools peer's, and its uncompressed MB/s as a fraction of the inflate floor's. The Python
peers appear in both panels as references, so the chart is meaningful before logrelay rows exist.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any
from xml.sax.saxutils import escape

# Lambda pricing and sizing assumptions of the cost estimate.
PRICE_PER_GB_S = 0.0000133334  # arm64, USD per GB-second
PRICE_PER_REQUEST = 0.20 / 1_000_000  # USD per request
MEMORY_MB = 128
#: Lambda gives one vCPU-second per second at 1,769 MB and CPU in proportion to memory below it.
ONE_VCPU_MB = 1769
TB = 1e12  # bytes of uncompressed payload JSON

# Targets the README compares against.
TARGET_X_POWERTOOLS = 12.0
TARGET_X_FLOOR = 0.8
TARGET_F100_OVER_1 = 3.0
TARGET_RSS_MB = 48.0
TARGET_STARTUP_MS = 30.0

BASIS_TEXT = {"wall": "wall time", "cpu": "user+system CPU time (`--basis cpu`)"}
SET_LABEL = {"small": "500 events/payload", "large": "10,000 events/payload"}
#: Rows whose wall time exceeds CPU time by more than this factor ran on a busy CPU.
CONTENDED = 1.25


def mb(n_bytes: float) -> float:
    return n_bytes / 1e6


def fmt_rate(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.0f}"


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def derive(results: dict, basis: str = "wall") -> list[dict]:
    """Adds throughputs and ratios to every row; rows keep the order of ``results['rows']``.

    ``basis`` is the time throughputs are computed from: ``wall`` (median wall time) or ``cpu``
    (median user+system CPU time, steadier when the pinned CPU is shared with other work; the same
    for these single-threaded programs on an idle CPU).
    """
    rows = [dict(r) for r in results["rows"]]
    by_key = {(r["set"], r["impl"]): r for r in rows if r["impl"] in ("floor", "powertools", "stdlib")}
    for r in rows:
        r["time_s"] = r["wall_s"] if basis == "wall" else r["cpu_s"]
        r["events_per_s"] = r["events"] / r["time_s"]
        r["mb_per_s"] = mb(r["uncompressed_bytes"]) / r["time_s"]
        r["contended"] = r["wall_s"] > CONTENDED * r["cpu_s"]
    for r in rows:
        for peer in ("powertools", "stdlib"):
            p = by_key.get((r["set"], peer))
            r[f"x_{peer}"] = (r["events_per_s"] / p["events_per_s"]
                              if p and r["impl"] not in ("floor", "split-copy", peer) else None)
        f = by_key.get((r["set"], "floor"))
        r["x_floor"] = r["mb_per_s"] / f["mb_per_s"] if f and r["impl"] != "floor" else None
    return rows


def find(rows: list[dict], set_name: str, impl: str, run: str | None = None) -> dict | None:
    for r in rows:
        if r["set"] == set_name and r["impl"] == impl and (run is None or r["run"] == run):
            return r
    return None


def targets(results: dict, rows: list[dict]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) lines; verdict is PASS, FAIL or n/a."""
    out = []
    for s in ("small", "large"):
        r = find(rows, s, "logrelay", "error-ndjson")
        if r is None:
            out.append((f"1 filter ERROR + ndjson ({SET_LABEL[s]}): ≥ {TARGET_X_POWERTOOLS:g}× powertools "
                        f"events/s and ≥ {TARGET_X_FLOOR:g}× floor MB/s", "not measured", "n/a"))
            continue
        xp, xf = r["x_powertools"], r["x_floor"]
        ok = xp is not None and xf is not None and xp >= TARGET_X_POWERTOOLS and xf >= TARGET_X_FLOOR
        bound = find(rows, s, "split-copy")
        measured = f"{fmt_ratio(xp)} powertools, {fmt_ratio(xf)} floor"
        if bound is not None:
            measured += f" (split-copy bound: {fmt_ratio(bound['x_floor'])} floor)"
        out.append((f"1 filter ERROR + ndjson ({SET_LABEL[s]}): ≥ {TARGET_X_POWERTOOLS:g}× powertools "
                    f"events/s and ≥ {TARGET_X_FLOOR:g}× floor MB/s", measured, "PASS" if ok else "FAIL"))
    for s in ("small", "large"):
        one, hundred = find(rows, s, "logrelay", "error-ndjson"), find(rows, s, "logrelay", "f100-ndjson")
        label = f"100 filters ≤ {TARGET_F100_OVER_1:g}× the time of 1 filter ({SET_LABEL[s]})"
        if one is None or hundred is None:
            out.append((label, "not measured", "n/a"))
        else:
            k = hundred["time_s"] / one["time_s"]
            out.append((label, f"{k:.2f}×", "PASS" if k <= TARGET_F100_OVER_1 else "FAIL"))
    large = [r for r in rows if r["set"] == "large" and r["impl"] == "logrelay"]
    label = f"peak RSS on 10,000-event payloads ≤ {TARGET_RSS_MB:g} MB (every logrelay run)"
    if not large:
        out.append((label, "not measured", "n/a"))
    else:
        worst = max(large, key=lambda r: r["peak_rss_kb"])
        rss = worst["peak_rss_kb"] / 1024
        out.append((label, f"{rss:.1f} MB ({worst['run']})", "PASS" if rss <= TARGET_RSS_MB else "FAIL"))
    st = results.get("startup", {}).get("logrelay")
    label = f"start-up ≤ {TARGET_STARTUP_MS:g} ms (`replay`, 100 filters, one-event payload)"
    if st is None:
        out.append((label, "not measured", "n/a"))
    else:
        ms = st["mean_s"] * 1000
        out.append((label, f"{ms:.1f} ms mean, {st['median_s'] * 1000:.1f} ms median",
                    "PASS" if ms <= TARGET_STARTUP_MS else "FAIL"))
    return out


WARM_HEAD = ["payloads", "passes", "floor ms/pass", "logrelay ms/pass", "logrelay / floor MB/s (warm)",
             "single pass"]


def warm_rows(results: dict, rows: list[dict]) -> list[list[str]]:
    """Warm time per pass, (time of N passes - time of one pass) / (N - 1), of the floor and of
    1 filter ERROR + ndjson, next to the single-pass ratio."""
    key = "wall_s" if results.get("basis", "wall") == "wall" else "cpu_s"
    out = []
    for s, w in results.get("warm", {}).items():
        one_floor, one_lr = find(rows, s, "floor"), find(rows, s, "logrelay", "error-ndjson")
        if "floor" not in w or "logrelay" not in w or one_floor is None or one_lr is None:
            continue
        n = w["passes"]
        floor_pp = (w["floor"][key] - one_floor[key]) / (n - 1)
        lr_pp = (w["logrelay"][key] - one_lr[key]) / (n - 1)
        if floor_pp <= 0 or lr_pp <= 0:
            continue
        out.append([SET_LABEL[s], str(n), f"{floor_pp * 1000:.1f}", f"{lr_pp * 1000:.1f}",
                    fmt_ratio(floor_pp / lr_pp), fmt_ratio(one_lr["x_floor"])])
    return out


WARM_TEXT = ("The floor and 1 filter ERROR + ndjson also run on the file list N times in one process; "
             "the difference from one pass, divided by N - 1, is the time per pass of a warm process "
             "(start-up, first page faults and first allocations behind it), which is what a warm Lambda "
             "instance pays per payload. The targets above are judged on the single pass.")


def cost(results: dict, rows: list[dict]) -> list[dict]:
    """Lambda cost per TB of uncompressed logs for logrelay (error-ndjson) and each Python peer."""
    out = []
    startup = results.get("startup", {})
    for s, info in results["sets"].items():
        n = info["events_per_payload"]
        bytes_per_event = info["uncompressed_bytes"] / info["events"]
        events_per_tb = TB / bytes_per_event
        for impl, run in (("logrelay", "error-ndjson"), ("powertools", "error-ndjson"), ("stdlib", "error-ndjson")):
            r = find(rows, s, impl, run)
            if r is None:
                continue
            base_cpu = startup.get(impl, {}).get("cpu_s")
            net_cpu = max(0.0, r["cpu_s"] - (base_cpu or 0.0))
            cpu_per_event = net_cpu / r["events"]
            duration_s = cpu_per_event * n * ONE_VCPU_MB / MEMORY_MB
            billed_ms = math.ceil(duration_s * 1000)
            invokes = events_per_tb / n
            compute = invokes * billed_ms / 1000 * (MEMORY_MB / 1024) * PRICE_PER_GB_S
            requests = invokes * PRICE_PER_REQUEST
            out.append({
                "set": s, "impl": impl, "events_per_payload": n, "cpu_us_per_event": cpu_per_event * 1e6,
                "startup_subtracted": base_cpu is not None, "duration_ms": duration_s * 1000,
                "billed_ms": billed_ms, "invokes_per_tb": invokes, "compute_usd": compute,
                "requests_usd": requests, "total_usd": compute + requests,
                "peak_rss_mb": r["peak_rss_kb"] / 1024,
            })
    return out


COST_ASSUMPTIONS = [
    f"Lambda arm64 at {MEMORY_MB} MB, ${PRICE_PER_GB_S} per GB-s, ${PRICE_PER_REQUEST * 1e6:.2f} per 1M requests;",
    "one invoke per payload of N events (the set's events per payload); 1 TB = 10^12 bytes of uncompressed payload JSON;",
    "per-event CPU = (median user+sys CPU of the run − CPU of the same program on a one-event payload) / events,",
    "measured on this x86 machine and used as a proxy for arm64;",
    f"Lambda gives one vCPU at {ONE_VCPU_MB} MB and CPU in proportion to memory, so at {MEMORY_MB} MB a CPU-bound invoke",
    f"lasts CPU time × {ONE_VCPU_MB}/{MEMORY_MB} = {ONE_VCPU_MB / MEMORY_MB:.1f}×, billed in 1 ms steps;",
    "not included: INIT (cold starts), time waiting on Kinesis/CloudWatch calls, data transfer, Kinesis and CloudWatch charges;",
    f"a row whose peak RSS exceeds {MEMORY_MB} MB would not run at {MEMORY_MB} MB (its cost is then a lower bound).",
]


# -------------------------------------------------------------------------------------------------
# Text and markdown
# -------------------------------------------------------------------------------------------------

SPLIT_COPY_TEXT = ("`split-copy` is a bound, not a forwarder: the floor, then the least of the error-ndjson "
                   "job — check the document is UTF-8, cut it at each `{\"id\":`, search each event for "
                   "ERROR, copy it into ndjson records — for a program that trusted CloudWatch's layout "
                   "and parsed no JSON (no escape, number or string end looked at). It writes the bytes "
                   "logrelay writes. Its × floor is about as close to the floor as an ndjson forwarder "
                   "can get on this data.")

TABLE_HEAD = ["payloads", "implementation", "run", "events/s", "MB/s", "× powertools", "× stdlib",
              "× floor", "wall s", "CPU s", "peak RSS MB"]


def table_rows(rows: list[dict]) -> list[list[str]]:
    out = []
    for r in rows:
        out.append([
            SET_LABEL.get(r["set"], r["set"]), r["impl"], r["run"] + (" *" if r["contended"] else ""),
            fmt_rate(r["events_per_s"]), f"{r['mb_per_s']:.1f}", fmt_ratio(r["x_powertools"]),
            fmt_ratio(r["x_stdlib"]), fmt_ratio(r["x_floor"]), f"{r['wall_s']:.3f}", f"{r['cpu_s']:.3f}",
            f"{r['peak_rss_kb'] / 1024:.1f}",
        ])
    return out


def plain_table(head: list[str], body: list[list[str]]) -> str:
    widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in body]
    return "\n".join(lines)


def md_table(head: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
    return "\n".join(lines)


def startup_rows(results: dict) -> list[list[str]]:
    out = []
    for impl, st in results.get("startup", {}).items():
        out.append([impl, f"{st['mean_s'] * 1000:.1f}", f"{st['median_s'] * 1000:.1f}",
                    f"{st['min_s'] * 1000:.1f}", f"{st['cpu_s'] * 1000:.1f}", f"{st['tool']}, {st['runs']} runs"])
    return out


STARTUP_HEAD = ["implementation", "mean ms", "median ms", "min ms", "CPU ms", "measured with"]
COST_HEAD = ["payloads", "implementation", "CPU µs/event", "invoke at 128 MB", "invokes/TB",
             "compute $/TB", "requests $/TB", "total $/TB", "× logrelay", "peak RSS MB"]


def cost_rows(costs: list[dict]) -> list[list[str]]:
    out = []
    for c in costs:
        base = next((x for x in costs if x["set"] == c["set"] and x["impl"] == "logrelay"), None)
        ratio = c["total_usd"] / base["total_usd"] if base and base["total_usd"] > 0 else None
        out.append([SET_LABEL.get(c["set"], c["set"]), c["impl"], f"{c['cpu_us_per_event']:.2f}",
                    f"{c['billed_ms']} ms", f"{c['invokes_per_tb']:,.0f}", f"{c['compute_usd']:,.2f}",
                    f"{c['requests_usd']:,.2f}", f"{c['total_usd']:,.2f}",
                    fmt_ratio(ratio) if c["impl"] != "logrelay" else "1×",
                    f"{c['peak_rss_mb']:.1f}" + (" (> 128 MB)" if c["peak_rss_mb"] > MEMORY_MB else "")])
    return out


def describe_sets(results: dict) -> list[str]:
    out = []
    for s, info in results["sets"].items():
        out.append(f"- {SET_LABEL.get(s, s)}: {info['payloads']} payload files ({info['data_payloads']} data, "
                   f"1 control message), {info['events']:,} events ({info['error_events']:,} containing ERROR), "
                   f"{mb(info['uncompressed_bytes']):.1f} MB uncompressed, {mb(info['compressed_bytes']):.1f} MB "
                   f"gzip, {mb(info['event_file_bytes']):.1f} MB of event files")
    return out


def markdown(results: dict, rows: list[dict], costs: list[dict]) -> str:
    m = results["machine"]
    p = results["params"]
    v = results.get("versions", {})
    lines = [
        "# logrelay benchmark results",
        "",
        "Produced by `bench/run` (see `bench/NOTES.md`); regenerate, do not edit by hand.",
        "",
        f"- Machine: {m['cpu_model']}, {m['cores']} cores, kernel {m.get('kernel', '?')}; measured {m['date']}",
        f"- Every command pinned with `taskset -c {p['cpu']}`; median of {p['reps']} timed runs after one "
        "verified run; peak RSS from GNU time (largest of the runs)",
        f"- Generated data: seed {p['seed']}, {p['total_mb']:g} MB total requested",
    ]
    lines += describe_sets(results)
    if v:
        lines.append("- Versions: " + "; ".join(f"{k}: {val}" for k, val in v.items() if val))
    lines += ["", "## Throughput", ""]
    if results.get("logrelay_skipped"):
        lines += [f"logrelay not measured: {results['logrelay_skipped']}.", ""]
    lines += [md_table(TABLE_HEAD, table_rows(rows)), "",
              f"Throughput from median {BASIS_TEXT[results['basis']]}. "
              "MB/s counts uncompressed payload JSON. Ratios compare events/s with the peers' and MB/s with the "
              "floor's on the same payload set; the peers always do the 1-filter ERROR + ndjson work.",
              "", SPLIT_COPY_TEXT]
    if any(r["contended"] for r in rows):
        lines.append(f"Rows marked * had wall time above {CONTENDED}× their CPU time: the pinned CPU was shared "
                     "with other work during that run, so their throughput is understated.")
    warm = warm_rows(results, rows)
    lines += ["", "![ratios](ratios.svg)", "", "## Targets", "",
              md_table(["target", "measured", "verdict"], [list(t) for t in targets(results, rows)]),
              "", "## Warm (steady state)", "",
              md_table(WARM_HEAD, warm) if warm else "Not measured.",
              "", WARM_TEXT,
              "", "## Start-up", "", md_table(STARTUP_HEAD, startup_rows(results)), "",
              "## Lambda cost per TB of uncompressed logs (estimate)", ""]
    lines += ([md_table(COST_HEAD, cost_rows(costs))] if costs else ["No rows to estimate from."])
    lines += ["", "Assumptions: " + " ".join(COST_ASSUMPTIONS)]
    if results.get("failures"):
        lines += ["", "## Failures", ""] + [f"- `{f['row']}`: {f['error']}" for f in results["failures"]]
    return "\n".join(lines) + "\n"


def text(results: dict, rows: list[dict], costs: list[dict]) -> str:
    m = results["machine"]
    out = [f"Machine: {m['cpu_model']}, {m['cores']} cores, {m['date']}"] + describe_sets(results) + [""]
    if results.get("logrelay_skipped"):
        out += [f"logrelay not measured: {results['logrelay_skipped']}", ""]
    out += [f"Throughput from median {BASIS_TEXT[results['basis']]}.", plain_table(TABLE_HEAD, table_rows(rows)), ""]
    if any(r["contended"] for r in rows):
        out += [f"* wall time above {CONTENDED}× CPU time: the pinned CPU was busy with other work", ""]
    out += ["Targets:"] + [f"  [{v:4}] {t}: {meas}" for t, meas, v in targets(results, rows)] + [""]
    warm = warm_rows(results, rows)
    if warm:
        out += ["Warm (steady state):", plain_table(WARM_HEAD, warm), ""]
    out += ["Start-up:", plain_table(STARTUP_HEAD, startup_rows(results)), ""]
    out += ["Lambda cost per TB of uncompressed logs (estimate):"]
    out += [plain_table(COST_HEAD, cost_rows(costs)) if costs else "  no rows to estimate from"]
    out += ["  Assumptions:"] + [f"  {a}" for a in COST_ASSUMPTIONS]
    if results.get("failures"):
        out += ["", "FAILURES:"] + [f"  {f['row']}: {f['error']}" for f in results["failures"]]
    return "\n".join(out)


# -------------------------------------------------------------------------------------------------
# SVG
# -------------------------------------------------------------------------------------------------

COLORS = {"small": "#4c78a8", "large": "#f58518"}
WIDTH = 820
LABEL_W = 250
BAR_H = 13
GAP = 3
GROUP_GAP = 12


def nice_max(x: float) -> float:
    if x <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(x))
    for k in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if x <= k * exp:
            return k * exp
    return 10 * exp


def panel(title: str, groups: list[tuple[str, dict[str, float]]], target: float | None, target_label: str,
          y0: float) -> tuple[list[str], float]:
    """One horizontal grouped bar chart; returns its SVG elements and its height."""
    plot_w = WIDTH - LABEL_W - 70
    values = [v for _, bars in groups for v in bars.values()]
    vmax = nice_max(max(values + ([target * 1.1] if target else []) + [0.0]))
    els = [f'<text x="{LABEL_W}" y="{y0 + 16}" class="title">{escape(title)}</text>']
    y = y0 + 30
    top = y
    for label, bars in groups:
        els.append(f'<text x="{LABEL_W - 8}" y="{y + BAR_H * len(bars) / 2 + 4 + GAP * (len(bars) - 1) / 2:.1f}" '
                   f'class="label" text-anchor="end">{escape(label)}</text>')
        for s, v in bars.items():
            w = max(1.0, plot_w * v / vmax)
            els.append(f'<rect x="{LABEL_W}" y="{y:.1f}" width="{w:.1f}" height="{BAR_H}" fill="{COLORS.get(s, "#888")}">'
                       f'<title>{escape(label)}, {escape(SET_LABEL.get(s, s))}: {v:.3g}</title></rect>')
            els.append(f'<text x="{LABEL_W + w + 4:.1f}" y="{y + BAR_H - 2:.1f}" class="value">{fmt_ratio(v)}</text>')
            y += BAR_H + GAP
        y += GROUP_GAP
    bottom = y - GROUP_GAP + 2
    els.append(f'<line x1="{LABEL_W}" y1="{top - 4}" x2="{LABEL_W}" y2="{bottom}" class="axis"/>')
    for i in range(6):
        tv = vmax * i / 5
        tx = LABEL_W + plot_w * i / 5
        els.append(f'<line x1="{tx:.1f}" y1="{bottom}" x2="{tx:.1f}" y2="{bottom + 4}" class="axis"/>')
        els.append(f'<text x="{tx:.1f}" y="{bottom + 16}" class="tick" text-anchor="middle">{tv:g}×</text>')
    if target:
        tx = LABEL_W + plot_w * target / vmax
        els.append(f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{bottom}" class="target"/>')
        els.append(f'<text x="{tx:.1f}" y="{bottom + 28}" class="target-label" text-anchor="middle">'
                   f'{escape(target_label)}</text>')
    return els, bottom + 36 - y0


def svg(results: dict, rows: list[dict]) -> str:
    sets = [s for s in ("small", "large") if s in results["sets"]]

    def groups_for(key: str, impls: list[str]) -> list[tuple[str, dict[str, float]]]:
        out = []
        names = [r["run"] for r in rows if r["impl"] == "logrelay"]
        seen = list(dict.fromkeys(names))
        for run in seen:
            bars = {s: r[key] for s in sets if (r := find(rows, s, "logrelay", run)) and r[key] is not None}
            if bars:
                out.append((f"logrelay {run}", bars))
        for impl in impls:
            bars = {s: r[key] for s in sets if (r := find(rows, s, impl)) and r[key] is not None}
            if bars:
                out.append((f"{impl} bound" if impl == "split-copy" else f"{impl} peer", bars))
        return out

    els: list[str] = []
    y = 56.0
    for title, key, impls, target, tlabel in (
            ("events/s as a multiple of the powertools peer's", "x_powertools", ["stdlib"], TARGET_X_POWERTOOLS,
             f"target {TARGET_X_POWERTOOLS:g}×"),
            ("uncompressed MB/s as a fraction of the inflate floor's", "x_floor",
             ["split-copy", "stdlib", "powertools"],
             TARGET_X_FLOOR, f"target {TARGET_X_FLOOR:g}×")):
        groups = groups_for(key, impls)
        if not groups:
            continue
        part, h = panel(title, groups, target, tlabel, y)
        els += part
        y += h + 10
    notes = []
    if results.get("logrelay_skipped"):
        notes.append("logrelay not measured yet: " + results["logrelay_skipped"])
    m = results["machine"]
    notes.append(f"{m['cpu_model']}, pinned to one CPU, median {BASIS_TEXT[results['basis']].split(' (')[0]} "
                 f"of {results['params']['reps']} run{'s' if results['params']['reps'] != 1 else ''}, {m['date']}")
    for n in notes:
        els.append(f'<text x="10" y="{y + 4:.1f}" class="note">{escape(n[:150])}</text>')
        y += 16
    legend = []
    legend_x = float(LABEL_W)
    for s in sets:
        legend.append(f'<rect x="{legend_x:.1f}" y="34" width="12" height="12" fill="{COLORS[s]}"/>')
        legend.append(f'<text x="{legend_x + 16:.1f}" y="44" class="label">{escape(SET_LABEL[s])}</text>')
        legend_x += 16 + 7 * len(SET_LABEL[s]) + 20
    height = int(y + 12)
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        'font-family="Helvetica, Arial, sans-serif">',
        "<style>.title{font-size:14px;font-weight:bold}.label{font-size:12px}.value{font-size:11px}"
        ".tick{font-size:10px;fill:#444}.note{font-size:10px;fill:#666}.axis{stroke:#444;stroke-width:1}"
        ".target{stroke:#d62728;stroke-width:1.5;stroke-dasharray:4 3}.target-label{font-size:10px;fill:#d62728}</style>",
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
        '<text x="10" y="22" class="title">logrelay vs Python forwarders vs the inflate floor (higher is better)</text>',
        *legend, *els, "</svg>", ""])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", required=True)
    ap.add_argument("--markdown", help="write the markdown page here")
    ap.add_argument("--svg", help="write the chart here")
    ap.add_argument("--basis", choices=("wall", "cpu"), default="wall",
                    help="compute throughput from wall time (default) or user+system CPU time")
    args = ap.parse_args(argv)
    with open(args.results, encoding="utf-8") as fh:
        results: dict[str, Any] = json.load(fh)
    results["basis"] = args.basis
    rows = derive(results, args.basis)
    costs = cost(results, rows)
    print(text(results, rows, costs))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(markdown(results, rows, costs))
    if args.svg:
        with open(args.svg, "w", encoding="utf-8") as fh:
            fh.write(svg(results, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
