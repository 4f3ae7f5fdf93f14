"""Every measured figure in README.md and docs/*.md agrees with the committed result file it cites.

Two conventions, both checked:

1. A marker after the figure, in the same paragraph or table row, names the result file and the
   figure's exact text there (several figures may share one marker, separated by `|`):

       ... about 23 MB <!-- figure: bench/results.md "23 MB" --> ...

   The file must exist, hold each quoted text, and the quoted text must be in the marked
   paragraph (or table row) itself: changing either side alone fails.

2. A paragraph or table row that links to a result file under `bench/` (`[..](bench/cost.md)`,
   also `../bench/...` from docs/; links to files that are not results, such as notes, do not
   count) and has no marker — a table row counts the links of the paragraph just before its
   table — : each figure in it that is a measurement
   — an amount of dollars, a ratio (`15.6×`), a duration in ms or µs, a size in MB/MiB/KB, a
   count in millions (`6.27 M`, `6.3 million`) — must occur in one of the files it links.

A result file is one under `bench/` whose text names its date (YYYY-MM-DD): a script's output.
"""

from __future__ import annotations

import glob
import os
import re
import sys

import pytest

from cfn_render import ROOT

MARKER = re.compile(r'<!--\s*figure:\s*(\S+)\s+((?:"[^"]+"\s*\|?\s*)+)-->')
LINK = re.compile(r"\]\((?:\.\./)?(bench/[A-Za-z0-9_.-]+\.md)(?:#[^)]*)?\)")
# Measured-looking figures: $ amounts, ratios, durations, sizes, counts in millions.
FIGURE = re.compile(
    r"\$\d[\d,]*(?:\.\d+)?"
    r"|\b\d[\d,]*(?:\.\d+)?\s?×"
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:ms|µs|MB|MiB|KB|KiB)\b"
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:M|million)\b"
)


def documents() -> list[str]:
    docs = [os.path.join(ROOT, "README.md")]
    docs += sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    return docs


def blocks(text: str) -> list[tuple[str, str]]:
    """(block, context): paragraphs, and each table row a block of its own whose context is the
    paragraph just before the table (its caption, which usually holds the link); fenced code is
    skipped."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    out = []
    previous = ""
    for para in re.split(r"\n\s*\n", text):
        lines = para.splitlines()
        if lines and all(line.lstrip().startswith("|") for line in lines):
            out += [(line, previous) for line in lines]
        else:
            out.append((para, ""))
            previous = para
    return out


def result_file(path: str, problems: list[str]) -> str:
    """The cited file's text ("" and a problem when it is missing or is not a dated result)."""
    full = os.path.join(ROOT, path)
    if not os.path.isfile(full):
        problems.append(f"{path} is cited for a figure but is not in the repository")
        return ""
    with open(full, encoding="utf-8") as f:
        text = f.read()
    if not re.search(r"\b20\d\d-\d\d-\d\d\b", text):
        problems.append(f"{path} is cited for a figure but names no date: not a result file")
    return text


def is_result_file(path: str) -> bool:
    """A file under bench/ that names its date: a script's output (notes and docs are not)."""
    full = os.path.join(ROOT, path)
    if not os.path.isfile(full):
        return False
    with open(full, encoding="utf-8") as f:
        return bool(re.search(r"\b20\d\d-\d\d-\d\d\b", f.read()))


def normalise(s: str) -> str:
    """Markdown emphasis and non-breaking spaces do not change a figure."""
    return re.sub(r"[*`]", "", s).replace("\u00a0", " ").replace("\u202f", " ")


def occurs(figure: str, text: str) -> bool:
    """`figure` occurs in `text` as a whole number: "8×" is not in "0.18×", "$41" not in "$41.00"."""
    return re.search(r"(?<![\d.,])" + re.escape(figure) + r"(?![\d]|[.,]\d)", text) is not None


def marked_figures(block: str) -> list[tuple[str, str]]:
    return [(path, q) for path, quoted in MARKER.findall(block) for q in re.findall(r'"([^"]+)"', quoted)]


def check(doc: str) -> list[str]:
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    name = os.path.relpath(doc, ROOT)
    problems = []
    for block, context in blocks(text):
        marks = marked_figures(block)
        prose = normalise(MARKER.sub("", block))
        for path, figure in marks:
            source = normalise(result_file(path, problems))
            if not occurs(figure, source):
                problems.append(f"{name}: {figure!r} is not in {path}")
            if not occurs(figure, prose):
                problems.append(f"{name}: the marker cites {figure!r} but the text around it does not say it")
        if marks:
            continue
        linked = [p for p in sorted(set(LINK.findall(block + context))) if is_result_file(p)]
        if not linked:
            continue
        sources = normalise("\n".join(result_file(p, problems) for p in linked))
        for m in FIGURE.finditer(prose):
            figure = m.group(0)
            if not occurs(figure, sources):
                line = prose[max(0, m.start() - 40):m.end() + 10].replace("\n", " ")
                problems.append(f"{name}: {figure!r} (…{line}…) is in none of {', '.join(linked)}")
    return problems


@pytest.mark.parametrize("doc", documents(), ids=lambda d: os.path.relpath(d, ROOT))
def test_every_cited_figure_is_in_its_result_file(doc):
    problems = check(doc)
    assert not problems, "\n".join(problems)


def test_the_check_catches_a_changed_figure(tmp_path, monkeypatch):
    """A figure that differs from its source, either convention, is reported; one that agrees is not."""
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "r.md").write_text("# r\n\n2026-12-01, revision abc. Ratio 15.6×, 23 MB, $16.96.\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", str(tmp_path))
    doc = tmp_path / "doc.md"

    def problems(text: str) -> list[str]:
        doc.write_text(text)
        return check(str(doc))

    assert problems('15.6× faster <!-- figure: bench/r.md "15.6×" -->\n') == []
    assert problems('11× faster <!-- figure: bench/r.md "15.6×" -->\n')
    assert problems('15.6× faster <!-- figure: bench/r.md "16×" -->\n')
    assert problems('15.6× faster <!-- figure: bench/missing.md "15.6×" -->\n')
    (bench / "undated.md").write_text("Ratio 15.6×\n")
    assert problems('15.6× faster <!-- figure: bench/undated.md "15.6×" -->\n')
    # A link to a file that is not a result (no date) claims nothing.
    assert problems("It is 11× faster ([notes](bench/undated.md)).\n") == []
    assert problems("It costs $16.96 and takes 23 MB ([r](bench/r.md)).\n") == []
    assert problems("It costs $17.10 and takes 23 MB ([r](bench/r.md)).\n")
    # Whole numbers only: 5.6× is not 15.6×, $16.9 is not $16.96.
    assert problems("It is 5.6× faster ([r](bench/r.md)).\n")
    assert problems("It costs $16.9 ([r](bench/r.md)).\n")
    assert problems("| cwl | **$16.96** | [r](bench/r.md) |\n") == []
    assert problems("| cwl | **$16.95** | [r](bench/r.md) |\n")
    caption = "Costs ([r](bench/r.md)):\n\n| mode | cost |\n| --- | --- |\n"
    assert problems(caption + "| cwl | $16.96 |\n") == []
    assert problems(caption + "| cwl | $16.97 |\n")
    # Without a link or a marker nothing is claimed from a file, so nothing is checked.
    assert problems("It costs $17.10.\n") == []
