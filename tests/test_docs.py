"""The documentation's API reference covers every public name (built from the packages' __all__)."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_public_name_has_an_api_page():
    pytest.importorskip("numpydoc")
    spec = importlib.util.spec_from_file_location("divkit_docs_conf", ROOT / "docs" / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)  # writes docs/api/ (ignored by git), as the Sphinx build does
    import divkit

    generated = ROOT / "docs" / "api" / "generated"
    for module_name, _, _ in conf.API_SECTIONS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in module.__all__:
            owner = "divkit" if module_name != "divkit" and name in divkit.__all__ else module_name
            page = generated / f"{owner}.{name}.rst"
            assert page.is_file(), f"no API page for {module_name}.{name}"
            assert f":: {name}" in page.read_text()
    for page in ("index", "divkit", "divkit.ot", "divkit.mmd", "divkit.gaussian"):
        assert (ROOT / "docs" / "api" / f"{page}.rst").is_file()


def test_gallery_scripts_and_guide_pages_exist():
    assert sorted(p.name for p in (ROOT / "examples").glob("plot_*.py"))
    index = (ROOT / "docs" / "index.rst").read_text()
    for page in ("guide/divergences", "guide/ot", "guide/mmd", "guide/gaussian", "guide/torch", "guide/coming_from"):
        assert page in index and (ROOT / "docs" / f"{page}.rst").is_file()
