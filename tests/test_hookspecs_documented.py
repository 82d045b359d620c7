"""Every hook specification is documented with its exact signature, and exercised by a test.

docs/plugin-hooks.md must have a ``## <hook>`` section per hookspec whose first python
block is ``<hook><inspect.signature(spec)>``; no section may describe a hook that does not
exist; and some test file under tests/ or plugins/*/tests/ must name the hook.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from connectkit import hookspecs

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "plugin-hooks.md"
SECTION = re.compile(r"^## (connectkit_\w+)\s*$", re.MULTILINE)
FIRST_BLOCK = re.compile(r"```python\n(.*?)\n```", re.DOTALL)


def hook_names() -> list[str]:
    return sorted(name for name in dir(hookspecs) if name.startswith("connectkit_"))


def documented_signatures() -> dict[str, str]:
    """Hook name -> the first line of the first python block of its section."""
    text = DOC.read_text(encoding="utf-8")
    marks = list(SECTION.finditer(text))
    found: dict[str, str] = {}
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        body = text[mark.end() : following.start() if following else len(text)]
        block = FIRST_BLOCK.search(body)
        found[mark.group(1)] = block.group(1).strip() if block else ""
    return found


def test_hook_names_are_found() -> None:
    """Guard: the spec module really is scanned (15 hooks at the time of writing)."""
    names = hook_names()
    assert "connectkit_fetch_people" in names
    assert len(names) >= 15


@pytest.mark.parametrize("name", hook_names())
def test_hook_is_documented_with_its_exact_signature(name: str) -> None:
    docs = documented_signatures()
    assert name in docs, f"docs/plugin-hooks.md has no '## {name}' section"
    expected = f"{name}{inspect.signature(getattr(hookspecs, name))}"
    assert docs[name] == expected, (
        f"documented signature differs:\n  doc:  {docs[name]}\n  spec: {expected}"
    )


def test_no_section_documents_a_missing_hook() -> None:
    stale = sorted(set(documented_signatures()) - set(hook_names()))
    assert not stale, f"docs/plugin-hooks.md documents hooks that do not exist: {stale}"


def _test_sources() -> str:
    files = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("plugins/*/tests/**/*.py")]
    me = Path(__file__).resolve()
    return "\n".join(f.read_text(encoding="utf-8") for f in files if f.resolve() != me)


@pytest.mark.parametrize("name", hook_names())
def test_hook_has_a_test(name: str) -> None:
    assert re.search(rf"\b{name}\b", _test_sources()), f"no test under tests/ names {name}"
