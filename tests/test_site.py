"""The course as its readers meet it: site pages that keep the whole lesson, pages that convert to HTML with intact
tables, figures a reader can read, a quiet runner, and a chapter that runs in (a stand-in for) Colab."""
import html.parser, json, os, re, shutil, subprocess, sys
from pathlib import Path
import pytest
from lvd.course import find_chapters, _split_opening
from conftest import ROOT, SPRITES_SKIP, skip_without_sprites

CHAPTERS = [p.stem for p in find_chapters(ROOT / "nbs")]
PAGES = ["index"] + CHAPTERS

def _cells(nb, kind): return [c for c in nb["cells"] if c["cell_type"] == kind]
def _src(c): return "".join(c["source"])

def _outside_fences(text: str) -> list[str]:
    "Lines of Markdown that are not inside a ``` code fence."
    lines, fenced = [], False
    for l in text.splitlines():
        if l.lstrip().startswith("```"): fenced = not fenced; continue
        if not fenced: lines.append(l)
    return lines

def _tables(text: str) -> list[list[str]]:
    "Pipe tables in Markdown, each a list of its lines."
    tables, cur = [], []
    for l in _outside_fences(text) + [""]:
        if l.strip().startswith("|"): cur.append(l.strip())
        elif cur: tables.append(cur); cur = []
    return tables

def _cells_in_row(row: str) -> int:
    "Cells of a Markdown table row: bars that are not escaped, minus the outer two."
    return len(re.findall(r"(?<!\\)\|", row)) - 1

@pytest.fixture(scope="session")
def site(quick_course, tmp_path_factory):
    "`lvd docs` over the quick-executed chapters."
    if SPRITES_SKIP: pytest.skip(SPRITES_SKIP)
    dest = tmp_path_factory.mktemp("site")
    proc = subprocess.run(["lvd", "docs", "--executed", str(quick_course["out"]), "--dest", str(dest)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest

def _page(site, name): return json.loads((site / f"{name}.ipynb").read_text())

def _source(name): return json.loads((ROOT / "nbs" / f"{name}.ipynb").read_text())

@pytest.mark.parametrize("name", PAGES)
def test_page_keeps_the_opening_cell(site, name):
    page, src = _page(site, name), _source(name)
    title, desc, rest = _split_opening(_src(_cells(src, "markdown")[0]))
    front = _src(page["cells"][0])
    assert page["cells"][0]["cell_type"] == "raw" and front.startswith("---\n") and front.endswith("\n---")
    assert f"title: {json.dumps(title, ensure_ascii=False)}" in front
    if desc: assert f"description: {json.dumps(desc, ensure_ascii=False)}" in front
    shown = "\n".join(_src(c) for c in _cells(page, "markdown"))
    missing = [l for l in rest.splitlines() if l.strip() and l not in shown]
    assert not missing, f"{name}: lines of the opening cell missing from the page: {missing[:3]}"
    if name != "index": assert f"colab.research.google.com/github/lvd-course/lvd/blob/main/nbs/{name}.ipynb" in shown

@pytest.mark.parametrize("name", CHAPTERS)
def test_page_shows_exported_code(site, name):
    page, src = _page(site, name), _source(name)
    shown = "\n".join(_src(c) for c in _cells(page, "code"))
    exported = [_src(c) for c in _cells(src, "code") if re.match(r"#\|\s*export", _src(c))]
    for code in exported:
        body = "\n".join(l for l in code.splitlines() if not l.startswith("#|")).strip()
        assert body in shown, f"{name}: exported code missing from the page: {body[:80]!r}"
    names = re.findall(r"^(?:def|class) (\w+)", "\n".join(exported), re.M)
    assert all(re.search(rf"^(?:def|class) {n}\b", shown, re.M) for n in names)
    assert not re.search(r"^#\|\s*(export|exports|exporti|default_exp|hide)\b", shown, re.M), "nbdev directives left"

@pytest.mark.parametrize("name", CHAPTERS)
def test_page_has_one_run_note_and_no_machine_paths(site, name, quick_course):
    page = _page(site, name)
    tags = [t for c in page["cells"] for t in c.get("metadata", {}).get("tags", [])]
    assert not {"parameters", "injected-parameters", "colab"} & set(tags)
    code = "\n".join(_src(c) for c in _cells(page, "code"))
    assert not re.search(r"^out_dir\s*=", code, re.M), f"{name}: a parameter cell is shown"
    assert "importlib.util.find_spec(\"google.colab\")" not in code, f"{name}: the Colab cell is shown"
    notes = [c for c in _cells(page, "markdown") if _src(c).startswith("::: {.callout-note}\nThis page was executed")]
    assert len(notes) == 1, f"{name}: expected one note on the profile, found {len(notes)}"
    assert "--profile quick`" in _src(notes[0])
    text = json.dumps({k: v for k, v in page.items()})
    text = re.sub(r'"image/[a-z+]+": "[^"]*"', "", text)   # images are base64: no paths in them
    for path in {str(ROOT), str(quick_course["out"]), str(Path.home())}:
        assert path not in text, f"{name}: the machine path {path} is on the page"

@pytest.mark.parametrize("name", PAGES)
def test_page_markdown_headings_and_tables(site, name):
    page = _page(site, name)
    texts = [_src(c) for c in _cells(page, "markdown")]
    texts += ["".join(o["data"]["text/markdown"]) for c in _cells(page, "code") for o in c.get("outputs", [])
              if "text/markdown" in o.get("data", {})]
    for t in texts:
        stray = [l for l in _outside_fences(t) if re.match(r"^# ", l)]
        assert not stray, f"{name}: a top-level heading below the title: {stray}"
        for table in _tables(t):
            width = _cells_in_row(table[0])
            bad = [r for r in table if _cells_in_row(r) != width]
            assert not bad, f"{name}: table rows with other than {width} cells (a bare '|'?): {bad[:2]}"

@pytest.mark.parametrize("name", CHAPTERS)
def test_page_outputs_are_quiet(site, name):
    "One plain line per training loop at most, no kernel warnings, no error boxes when nothing failed, no echoed dicts."
    page = _page(site, name)
    for c in _cells(page, "code"):
        for o in c.get("outputs", []):
            assert o["output_type"] != "error", f"{name}: an error output"
            text = "".join(o.get("text", ""))
            if o.get("name") == "stderr":
                assert "%|" not in text and "it/s]" not in text, f"{name}: a progress bar in an error box: {text[:120]!r}"
                assert "WARNING" not in text and "usage:" not in text, f"{name}: {text[:200]!r}"
            if o["output_type"] == "stream":   # a redrawn bar shows as a carriage return or two bars on one line
                assert "\r" not in text and all(l.count("%|") <= 1 for l in text.split("\n")), f"{name}: a bar redrawn: {text[:200]!r}"
            assert not ("write_results(" in _src(c) and o["output_type"] == "execute_result"), \
                f"{name}: the results cell echoes a value after write_results printed the metrics"

class _Tables(html.parser.HTMLParser):
    "Cell counts of every row of every table in an HTML page."
    def __init__(self):
        super().__init__(); self.tables, self.depth = [], 0
    def handle_starttag(self, tag, attrs):
        if tag == "table": self.tables.append([]); self.depth += 1
        elif tag == "tr" and self.depth: self.tables[-1].append(0)
        elif tag in ("td", "th") and self.depth and self.tables[-1]: self.tables[-1][-1] += 1
    def handle_endtag(self, tag):
        if tag == "table": self.depth -= 1

def _check_tables(html_text, name, tool):
    p = _Tables(); p.feed(html_text)
    for rows in p.tables:
        assert rows and len(set(rows)) == 1, f"{name}: a table that {tool} renders with rows of {sorted(set(rows))} cells"

@pytest.mark.parametrize("name", PAGES)
def test_page_converts_with_nbconvert(site, name):
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter().from_filename(str(site / f"{name}.ipynb"))
    assert "<h1" in body or "title" in body
    _check_tables(body, name, "nbconvert")

@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed (CI installs it)")
@pytest.mark.parametrize("name", PAGES)
def test_page_converts_with_pandoc(site, name):
    proc = subprocess.run(["pandoc", "-f", "ipynb", "-t", "html", str(site / f"{name}.ipynb")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    _check_tables(proc.stdout, name, "pandoc")

def test_figures_are_legible(quick_course):
    "Every figure every chapter drew under `quick` was checked by lvd.plotting.check_figures; none had a problem."
    log = quick_course["figures"]
    found = [json.loads(l) for l in log.read_text().splitlines()] if log.exists() else []
    assert not found, "\n".join(f"{r['figure']!r}: {'; '.join(r['problems'][:3])}" for r in found[:10])

def test_runner_prints_one_line_per_chapter(quick_course):
    lines = [l for l in quick_course["log"].splitlines() if l.strip()]
    chapter = re.compile(r"^\s*(ok|failed)\s+\S+\s+[\d.]+ s\b")
    other = [l for l in lines if not chapter.match(l) and not l.startswith("results: ")]
    assert not other, f"the runner printed more than one line per chapter: {other[:5]}"
    assert sum(bool(chapter.match(l)) for l in lines) == len(quick_course["rows"])

def test_colab_cells(root):
    "Every chapter's first code cell installs lvd in Colab only, from settings.ini's git_url; 08 and 10 clone Sprites."
    import configparser
    cfg = configparser.ConfigParser(); cfg.read(root / "settings.ini")
    url = f"git+{cfg['DEFAULT']['git_url']}"
    for p in find_chapters(root / "nbs"):
        first = _cells(json.loads(p.read_text()), "code")[0]
        src = _src(first)
        assert "colab" in first["metadata"].get("tags", []), f"{p.name}: the first code cell should be the Colab cell"
        assert 'find_spec("google.colab")' in src and f'"LVD_PIP_SOURCE", "{url}"' in src, p.name
        assert ("clone_sprites" in src) == (p.name[:2] in ("08", "10", "11")), p.name

def test_license_and_metadata(root):
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0" and "Apache License" in (root / "LICENSE").read_text()
    tm = next(d for d in project["dependencies"] if d.startswith("torchmetrics"))
    assert tm.replace(" ", "").startswith("torchmetrics>=1.4.2"), "older torchmetrics crop SSIM's border"

@pytest.mark.slow
def test_chapter_runs_as_colab_meets_it(tmp_path):
    """A fresh virtual environment with torch, papermill and ipykernel but not lvd; a stand-in `google.colab`;
    chapter 01 executed by papermill under `quick`: its Colab cell installs lvd from the checkout, and the chapter
    passes. Then the installed (not editable) lvd imports with the runtime dependencies alone."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    pip = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + ["torch==2.13.0"], check=True, timeout=900)
    subprocess.run(pip + ["papermill", "ipykernel"], check=True, timeout=900)
    assert subprocess.run([py, "-c", "import lvd"], cwd=tmp_path, capture_output=True).returncode != 0
    stub = tmp_path / "stub" / "google" / "colab"; stub.mkdir(parents=True); (stub / "__init__.py").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LVD_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(PYTHONPATH=str(tmp_path / "stub"), LVD_PIP_SOURCE=ROOT.as_uri(), LVD_THREADS="2",
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    out = tmp_path / "01.ipynb"
    proc = subprocess.run([py, "-m", "papermill", str(ROOT / "nbs" / "01_neural_odes.ipynb"), str(out), "-p", "profile",
                           "quick", "--cwd", str(tmp_path), "--no-progress-bar"], env=env, capture_output=True, text=True,
                          timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    blocked = "import sys; [sys.modules.__setitem__(m, None) for m in ('fastcore', 'nbdev', 'execnb', 'pytest', 'skimage', 'pydmd', 'yaml')]"
    check = f"{blocked}; import lvd, lvd.hamiltonian_vae, lvd.course, lvd.sprites, lvd.judges; print(lvd.__file__)"
    where = subprocess.run([py, "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr[-2000:]
    assert where.stdout.strip().startswith(str(venv)), f"lvd imported from {where.stdout.strip()}, not the venv"
