"""The repository stands alone: its tests read nothing outside it."""

from pathlib import Path

from tests.spec import SPEC_DIR, graph_names, webhook_names

REPOSITORY = Path(__file__).resolve().parents[1]


def test_samples_are_read_from_inside_the_repository():
    # given / when
    location = SPEC_DIR.resolve()
    # then
    assert location.is_relative_to(REPOSITORY)
    assert webhook_names() and graph_names("error.")


def test_no_test_module_names_a_path_beside_the_checkout():
    # given
    modules = [path for path in (REPOSITORY / "tests").rglob("*.py") if path.name != Path(__file__).name]
    # when
    offenders = [str(path) for path in modules if "../shared" in path.read_text() or '"shared"' in path.read_text()]
    # then
    assert offenders == []
