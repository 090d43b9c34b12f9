"The repository's promises: lvd/ is what the notebooks export, the README is generated, the site lists every chapter."
import configparser, filecmp, json, re, shutil, subprocess
from pathlib import Path
import pytest, yaml
from lvd.course import find_chapters, build_readme

def test_nbdev_export_leaves_lvd_unchanged(root, tmp_path):
    for name in ("settings.ini", "nbs", "lvd"):
        src = root / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    for p in (tmp_path / "lvd").rglob("__pycache__"): shutil.rmtree(p)
    subprocess.run(["nbdev_export"], cwd=tmp_path, check=True, capture_output=True)
    cmp = filecmp.dircmp(root / "lvd", tmp_path / "lvd", ignore=["__pycache__"])
    assert not (cmp.diff_files or cmp.left_only or cmp.right_only), \
        f"run nbdev_export: differ {cmp.diff_files}, only in repo {cmp.left_only}, only after export {cmp.right_only}"

def test_settings_keep_papermill_tags(root):
    cfg = configparser.ConfigParser(); cfg.read(root / "settings.ini")
    assert "tags" in cfg["DEFAULT"]["allowed_cell_metadata_keys"].split(",")
    assert cfg["DEFAULT"]["lib_path"] == "lvd" and cfg["DEFAULT"]["nbs_path"] == "nbs"

def test_version_lives_in_one_place(root):
    import lvd
    cfg = configparser.ConfigParser(); cfg.read(root / "settings.ini")
    assert lvd.__version__ == cfg["DEFAULT"]["version"]
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]

def test_notebooks_committed_clean_with_parameters(root):
    for p in find_chapters(root / "nbs"):
        nb = json.loads(p.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), f"{p.name} has outputs: run nbdev_clean"
        params = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
        assert len(params) == 1, f"{p.name} needs exactly one cell tagged 'parameters'"
        src = "".join(params[0]["source"])
        assert re.search(r"^profile\s*=", src, re.M) and re.search(r"^out_dir\s*=", src, re.M), p.name
        first = "".join(nb["cells"][0]["source"])
        assert f"colab.research.google.com/github/lvd-course/lvd/blob/main/nbs/{p.name}" in first, f"{p.name}: no Colab link to itself"

def test_notebook_markdown_is_markdown(root):
    "Markdown cells hold Markdown: one '# Title' heading on top, no other level-1 heading, no '# '-commented lines."
    for p in sorted((root / "nbs").glob("*.ipynb")):
        cells = [c for c in json.loads(p.read_text())["cells"] if c["cell_type"] == "markdown"]
        title = "".join(cells[0]["source"]).splitlines()[0]
        assert re.match(r"^# [^#]", title), f"{p.name}: the first markdown line should be a '# Title', got {title!r}"
        for i, c in enumerate(cells):
            lines = [l for l in "".join(c["source"]).splitlines() if l.strip()]
            assert not (len(lines) > 1 and all(l.startswith("#") for l in lines)), \
                f"{p.name}: a markdown cell is commented out line by line: {lines[0]!r}"
            fenced, prose = False, []
            for l in lines[1 if i == 0 else 0:]:
                if l.lstrip().startswith("```"): fenced = not fenced
                elif not fenced: prose.append(l)
            stray = [l for l in prose if re.match(r"^# ", l)]
            assert not stray, f"{p.name}: a level-1 heading below the title would enter the site's contents: {stray}"

def test_readme_is_generated_from_index(root):
    assert (root / "README.md").read_text() == build_readme(root, write=False), "README.md is stale: run `lvd readme`"

def test_ci_runs_the_readme_commands(root):
    readme, ci = (root / "README.md").read_text(), (root / ".ci" / "run").read_text()
    setup = re.search(r"## Set up.*?```bash\n(.*?)\n```", readme, re.S).group(1).strip()
    test = re.search(r"## Test.*?```bash\n(.*?)\n```", readme, re.S).group(1).strip()
    ci_lines = [l.strip() for l in ci.splitlines()]
    assert setup in ci_lines and test in ci_lines

def test_quarto_site_lists_every_chapter(root):
    cfg = yaml.safe_load((root / "_quarto.yml").read_text())
    assert cfg["project"]["type"] == "website" and cfg["execute"]["enabled"] is False
    def pages(items):
        for it in items:
            if isinstance(it, str): yield it
            elif "href" in it: yield it["href"]
            else: yield from pages(it.get("contents", []))
    listed = list(pages(cfg["website"]["sidebar"]["contents"]))
    expected = ["site/index.ipynb"] + [f"site/{p.name}" for p in find_chapters(root / "nbs")]
    assert listed == expected, "the sidebar must list index and every chapter in reading order"
    assert cfg["format"]["html"]["html-math-method"]

def test_data_modules_import_no_model_family(root):
    "Modules by role: the data modules (`lvd.datasets`, `lvd.sprites`) import nothing from lvd but `lvd.core`."
    import ast
    for name in ("datasets", "sprites"):
        tree = ast.parse((root / "lvd" / f"{name}.py").read_text())
        internal = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1}
        internal |= {n.module.split(".", 1)[1] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0
                     and (n.module or "").startswith("lvd.")}
        internal |= {a.name.split(".", 1)[1] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
                     if a.name.startswith("lvd.")}
        assert internal <= {"core"}, f"lvd.{name} imports {sorted(internal - {'core'})}"
