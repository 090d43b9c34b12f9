"What every lesson carries besides its code: a run-time line written from the record, and its departures from the paper."
import json, re
import pytest
from lvd.course import RUN_TIME, find_chapters, refresh_run_times

CHAPTERS = find_chapters()
PAPER_CHAPTERS = [p for p in CHAPTERS if not p.name.startswith("00")]     # 00-00g build the course's tools, not a paper

def _markdown(nb) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown"]

def test_run_time_lines_say_what_the_record_says():
    stale = [p.name for p in refresh_run_times(write=False)]
    assert stale == [], f"run-time lines that differ from results/ (run `lvd readme`): {stale}"

@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_run_time_line_under_the_title(nb):
    opening = _markdown(nb)[0]
    assert sum(l.startswith(RUN_TIME) for l in opening.split("\n")) == 1, f"{nb.name}: one '{RUN_TIME}' line in the opening cell"

@pytest.mark.parametrize("nb", PAPER_CHAPTERS, ids=lambda p: p.stem)
def test_departures_from_the_paper_are_stated(nb):
    heads = [l for t in _markdown(nb) for l in t.split("\n") if re.match(r"^## Departures from the papers?\b", l)]
    assert len(heads) == 1, f"{nb.name}: expected one '## Departures from the paper' section, found {heads}"
    section = next(t for t in _markdown(nb) if heads[0] in t)
    assert section.count("\n- ") >= 2, f"{nb.name}: the departures section lists fewer than two departures"

@pytest.mark.parametrize("nb", PAPER_CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_hint(nb):
    cells = [t for t in _markdown(nb) if re.search(r"^(##\s*Exercises|\*\*Exercises?\.?\*\*)", t, re.M)]
    assert cells, f"{nb.name}: no exercises"
    items = [item for t in cells for item in re.split(r"(?m)^\d+\. ", t.split("Exercise", 1)[1])[1:]]
    assert items, f"{nb.name}: an exercises section without numbered exercises"
    bare = [item.split("\n")[0][:60] for item in items if "Hint" not in item]
    assert not bare, f"{nb.name}: exercises without a hint: {bare}"

def test_chapter_10_results_table_quotes_the_cpu_record():
    "The cpu columns of chapter 10's results table say what results/cpu.json holds, to the digits they print."
    from pathlib import Path
    ROOT = Path(__file__).resolve().parents[1]
    nb = json.loads((ROOT / "nbs" / "10_hamiltonian_vae.ipynb").read_text())
    text = next("".join(c["source"]) for c in nb["cells"] if "## What the `cpu` and `full` runs show" in "".join(c["source"]))
    record = next(r for r in json.loads((ROOT / "results" / "cpu.json").read_text()) if r["chapter"] == "10_hamiltonian_vae")
    rows = {"image-to-sequence SSIM (16 frames)": "image-to-sequence SSIM", "PSNR (dB)": "image-to-sequence PSNR",
            "MSE": "image-to-sequence MSE",
            "unconditional, content of another class: action accuracy": "unconditional accuracy (content from another class)",
            "... judged as the content video's class": "unconditional judged as the content's class (content from another class)",
            "unconditional, content from the prior: action accuracy": "unconditional accuracy (content from the prior)",
            "unconditional, same class (diagnostic): action accuracy": "unconditional accuracy (content of the same class, a diagnostic)"}
    for label, key in rows.items():
        line = next(l for l in text.splitlines() if l.startswith(f"| {label} |"))
        for kind, cell in zip(("H", "skew-H"), line.split("|")[2:4]):
            printed = cell.strip()
            value = record["metrics"][f"{kind}: {key}"]
            assert f"{value:.{len(printed.split('.')[1])}f}" == printed, f"{label}, {kind}: the table says {printed}, the record {value}"
