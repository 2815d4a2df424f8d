"""course_lib.glue: values for the prose reach myst-nb, and nothing breaks where myst-nb is missing."""

import sys

import pytest

import course_lib
from course_lib import glue


def test_glue_stores_a_hidden_display_bundle_for_myst_nb(monkeypatch):
    import myst_nb.ext.glue as myst_glue

    shown = []
    monkeypatch.setattr(myst_glue, "ipy_display", lambda data, raw, metadata: shown.append((data, metadata)))
    assert glue("ch2_gap", "0.23") is None  # so that a cell ending in glue(...) shows nothing
    (data, metadata), = shown
    assert data == {"application/papermill.record/text/plain": "'0.23'"}
    assert metadata["scrapbook"] == {"name": "ch2_gap", "mime_prefix": "application/papermill.record/"}


def test_glue_does_nothing_without_myst_nb(monkeypatch):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # as in Colab or Binder
    assert glue("ch5_median_acc", 0.992) is None


@pytest.mark.parametrize("name", ["", "Ch2_gap", "2gap", "ch2-gap", "ch2 gap", None, 3])
def test_glue_rejects_names_that_are_not_lower_case_identifiers(name):
    with pytest.raises(ValueError, match=r"name must be lower-case letters, digits and underscores.*got"):
        glue(name, 1.0)


def test_glue_is_exported_by_the_package():
    assert course_lib.glue is glue and "glue" in course_lib.__all__
