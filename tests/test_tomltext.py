"""survey.toml mistakes in the user's language: line, column, what, and the likely cause."""

from __future__ import annotations

import pytest
from conftest import SMALL_TOML, write_survey

from hailong.errors import HailongError
from hailong.survey.load import load_survey
from hailong.survey.tomltext import load_toml

TITLE = 'title = "Khảo sát thử nghiệm"'


@pytest.mark.parametrize("line, where, said, cause", [
    ('title = “Khảo sát thử nghiệm”', "line 2, column 9", "a value TOML does not know",
     "curly quotes"),
    ('title = "Khảo sát thử nghiệm', "line 2, column 29", "does not end on its line",
     'a closing " is missing'),
    ("title = Khảo sát thử nghiệm", "line 2, column 9", "a value TOML does not know",
     "straight double quotes"),
    ("title", "line 2, column 6", "a name without '=' and a value after it", "check the quotes"),
])
def test_errors_name_the_line_the_column_and_the_cause(tmp_path, line, where, said, cause):
    folder = write_survey(tmp_path / "s", toml=SMALL_TOML.replace(TITLE, line))
    with pytest.raises(HailongError) as info:
        load_survey(folder)
    message = str(info.value)
    assert message.startswith(f"survey.toml, {where}: ") and said in message and cause in message
    assert "\n" not in message and "Illegal" not in message and "Invalid" not in message


def test_vietnamese_by_default(tmp_path, vietnamese):
    folder = write_survey(tmp_path / "s", toml=SMALL_TOML.replace(TITLE, 'title = “Khảo sát”'))
    with pytest.raises(HailongError, match=r"survey.toml, dòng 2, cột 9: .*dấu ngoặc kép cong"):
        load_survey(folder)


def test_deep_nesting_is_one_line_not_a_recursion_error():
    text = 'id = "a"\nx = ' + "[" * 20000 + "]" * 20000 + "\n"
    with pytest.raises(HailongError, match="nested too deep"):
        load_toml("survey.toml", text)
