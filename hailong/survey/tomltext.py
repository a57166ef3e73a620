"""survey.toml read with its mistakes said in the user's language: the line, the column, what
TOML expected there, and a hint for the usual causes (quotes that Word made curly, text
without quotes, a closing quote missing). tomllib's own English message is never shown.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from hailong.errors import HailongError
from hailong.i18n import N_, _

_WHERE = re.compile(r"^(?P<what>.*?) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$",
                    re.DOTALL)
CURLY = "“”„‟‘’‚‛«»"

# tomllib's messages (Python 3.11 to 3.13) -> what to say instead
_KNOWN = [
    (re.compile(r"^Illegal character '\\n'"), N_("a text in quotes does not end on its line")),
    (re.compile(r"^Illegal character"), N_("a character not allowed there")),
    (re.compile(r"^Unterminated string"), N_("a text in quotes does not end")),
    (re.compile(r"^Invalid value"), N_("a value TOML does not know")),
    (re.compile(r"^Invalid statement"), N_("a line that is neither a setting nor a [section]")),
    (re.compile(r"^Expected '=' after a key"), N_("a name without '=' and a value after it")),
    (re.compile(r"^Invalid initial character for a key part"), N_("a setting name that starts "
                                                                  "with a character not allowed")),
    (re.compile(r"^Expected ']' at the end of a table"), N_("a [section] without its closing ]")),
    (re.compile(r"^Expected ']]' at the end of an array"), N_("a [[table]] without its closing ]]")),
    (re.compile(r"^Unclosed array"), N_("a list [ … ] without its closing ]")),
    (re.compile(r"^Unclosed inline table"), N_("an inline table without its closing brace")),
    (re.compile(r"^Cannot (declare|overwrite|redefine|mutate)|^Duplicate"),
     N_("a setting or section given twice")),
    (re.compile(r"^Invalid date or datetime"), N_("a date that does not exist")),
    (re.compile(r"^Unescaped '\\\\'|^Invalid hex value|^Escaped character"),
     N_("a backslash \\ inside a text; write \\\\ or use '…' quotes")),
    (re.compile(r"^Expected newline or end of document"), N_("more after a value on the same "
                                                              "line")),
    (re.compile(r"^Found invalid character"), N_("a character not allowed there")),
]


def hint(line: str) -> str:
    """The likely cause on the line, or ''."""
    if any(ch in line for ch in CURLY):
        return _("the line has curly quotes (“ ” or ‘ ’, as Word writes them): TOML needs "
                 "straight quotes \"…\"; retype them in a plain-text editor (Notepad)")
    if "=" in line:
        value = line.split("=", 1)[1].strip()
        if value and value[0] not in "\"'[{-+0123456789tfin" and not value.startswith("#"):
            return _("a text must be in straight double quotes, e.g. title = \"Khảo sát …\"")
        if value.count('"') % 2 == 1:
            return _("a closing \" is missing at the end of the text")
    return ""


def explain(path: Path | str, text: str, exc: Exception) -> str:
    """One line: file, line, column, what is wrong there, and a hint."""
    message = str(exc)
    m = _WHERE.match(message)
    what = m.group("what") if m else message
    said = next((_(v) for pattern, v in _KNOWN if pattern.search(what)), _("a TOML syntax error"))
    if m and m.group("line"):
        number, column = int(m.group("line")), int(m.group("col"))
        lines = text.splitlines()
        line = lines[number - 1] if 0 < number <= len(lines) else ""
        # a string that runs off its line is reported on the next: look at both
        cause = hint(line) or (hint(lines[number - 2]) if number >= 2 and number - 2 < len(lines) else "")
        where = _("{path}, line {line}, column {column}", path=path, line=number, column=column)
    else:
        cause = next((hint(line) for line in reversed(text.splitlines()) if hint(line)), "")
        where = _("{path}, at the end", path=path)
    extra = f"; {cause}" if cause else _("; check the quotes and brackets there")
    return _("{where}: {what}{extra}", where=where, what=said, extra=extra)


def load_toml(path: Path | str, text: str) -> dict[str, Any]:
    """tomllib.loads(text), or a HailongError in the user's language."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HailongError(explain(path, text, exc)) from None
    except RecursionError:
        raise HailongError(_("{path}: values nested too deep (lists inside lists, many levels); a "
                             "survey setting is at most a list of texts or numbers", path=path)) from None
