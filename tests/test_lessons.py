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
