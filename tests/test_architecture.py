"""The floors of the house, checked on the code as it is (docs/architecture.md draws them).

The layer contract lives in `.importlinter` and runs in `make lint`; these tests show it
holds, that it catches a wrong import, and the rules it cannot express.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "studiocrm"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# Apps that own a part of the sales path. They say what happened (deals.events); only the
# flow layer above them writes to clients and managers.
DOMAIN_APPS = ["clients", "deals", "intake", "briefs", "estimates", "documents", "billing"]


def _lint_imports(source_root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=source_root,
        env={**os.environ, "PYTHONPATH": str(source_root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("studiocrm", include_external_packages=False)


def test_the_code_keeps_the_layer_contract():
    result = _lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_layer_contract_fails_on_an_upward_import(tmp_path):
    """A copy of the code where the ground floor imports billing breaks the contract."""
    shutil.copytree(
        PACKAGE,
        tmp_path / "studiocrm",
        ignore=shutil.ignore_patterns("templates", "static", "locale", "__pycache__"),
    )
    money = tmp_path / "studiocrm" / "core" / "money.py"
    money.write_text(
        money.read_text() + "\nfrom studiocrm.billing import models as _upward  # noqa\n"
    )

    result = _lint_imports(tmp_path)

    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "studiocrm.core.money -> studiocrm.billing.models" in result.stdout


def test_no_module_import_cycles(graph):
    """Tarjan's strongly connected components over every import, function-level included."""
    modules = sorted(graph.modules)
    edges = {module: sorted(graph.find_modules_directly_imported_by(module)) for module in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in edges[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    assert cycles == []


def test_no_domain_app_queues_mail_itself():
    """Client and manager messages come from the flow layer's reactions; a domain app may
    show the outbox and retry a failed message, never write a new one."""
    writers = [
        str(path.relative_to(PACKAGE))
        for app in DOMAIN_APPS
        for path in (PACKAGE / app).rglob("*.py")
        if re.search(r"\bqueue_(email|message)\b", path.read_text())
    ]
    assert writers == []


def test_ground_floor_imports_no_domain_app(graph):
    for ground in ("core", "portal", "notifications"):
        for app in DOMAIN_APPS + ["flow", "demo"]:
            assert not graph.chain_exists(
                importer=f"studiocrm.{ground}", imported=f"studiocrm.{app}", as_packages=True
            ), f"{ground} imports {app}"


def test_only_deals_moves_a_deal_and_only_flow_moves_it_for_others():
    """The forward-only rule has one implementation (deals.services.advance_deal), called
    from the flow layer; no other app moves a deal through move_deal. The REST API moves a
    deal as the person whose token it is, as the board does (deals' own rule applies)."""
    definitions, callers = [], []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        app = path.relative_to(PACKAGE).parts[0]
        if re.search(r"^def advance_deal\(", text, re.MULTILINE):
            definitions.append(app)
        if re.search(r"\b(move_deal|advance_deal)\(", text) and app not in ("deals", "flow", "api"):
            callers.append(str(path.relative_to(PACKAGE)))
    assert definitions == ["deals"]
    assert [path for path in callers if not path.startswith("demo/")] == []
