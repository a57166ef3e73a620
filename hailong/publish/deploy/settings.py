"""The site settings file `hailong.toml`: every deploy setting declared once, with its default
and help, then read and checked in one place (contract, section 7).

Other tables of hailong.toml belong to other features and are left alone; inside [deploy]
an unknown key is an error, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hailong.errors import HailongError
from hailong.survey.config import REQUIRED, Setting

DEFAULT_CONFIG = Path("hailong.toml")


def _s(types, default, help_) -> Setting:
    return Setting(types if isinstance(types, tuple) else (types,), default, help_)


_KEEP = _s(int, 5, "số bản phát hành giữ lại để quay về bằng --rollback (ít nhất 2)")
# kind -> setting -> Setting; "kind" itself is checked before these
KINDS: dict[str, dict[str, Setting]] = {
    "git": {
        "repo": _s(str, REQUIRED, "kho git để đẩy trang lên: địa chỉ bất kỳ mà git push được"),
        "branch": _s(str, "gh-pages", "nhánh chứa trang (cả cây của nhánh là nội dung <out>/site/)"),
        "nojekyll": _s(bool, True, "thêm tệp .nojekyll để GitHub Pages đưa trang lên nguyên vẹn"),
    },
    "rsync": {
        "dest": _s(str, REQUIRED, "thư mục trên máy này, hoặc user@máy:đường-dẫn qua ssh; "
                   "trang đang chạy là dest/current"),
        "keep": _KEEP,
        "ssh": _s(str, "", "lệnh ssh, ví dụ \"ssh -p 2222 -i ~/.ssh/hailong\" (mặc định: "
                  "biến RSYNC_RSH, nếu không thì ssh)"),
        "options": _s(list, [], "tùy chọn thêm cho rsync, ví dụ [\"--bwlimit=2000\"]"),
    },
    "folder": {
        "dest": _s(str, REQUIRED, "thư mục mà máy chủ web phục vụ; trang đang chạy là dest/current"),
        "keep": _KEEP,
    },
}
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    base: Path = Path(".")  # the folder of hailong.toml: relative local paths start there

    def __getitem__(self, key: str) -> Any:
        return self.options[key]

    def local_path(self, text: str) -> Path:
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.base / path


def is_remote(location: str) -> bool:
    """True for what git or rsync would reach over the network: a URL, or `[user@]host:path`
    (a colon before the first slash)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", location):
        return True
    head = location.split("/", 1)[0]
    return ":" in head and not re.match(r"^[A-Za-z]:$", head)  # not a Windows drive


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    names = ", ".join(choices)
    return f"ý bạn là '{close[0]}'? Các khóa hợp lệ: {names}" if close else f"các khóa hợp lệ: {names}"


def _check(where: str, setting: Setting, value: Any) -> Any:
    if not isinstance(value, setting.types) or (isinstance(value, bool) and bool not in setting.types):
        kinds = {str: "chữ trong ngoặc kép", int: "số nguyên", bool: "true hoặc false",
                 list: "danh sách trong [ ]"}
        want = " hoặc ".join(kinds.get(t, t.__name__) for t in setting.types)
        raise HailongError(f"{where} phải là {want}, không phải {value!r}")
    if isinstance(value, str):
        value = value.strip()
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise HailongError(f"{where}: mỗi mục phải là chữ trong ngoặc kép")
    return value


def _target(file: Path, name: str, raw: Any) -> Target:
    where = f"{file}: [deploy.{name}]"
    if not _NAME.match(name):
        raise HailongError(f"{where}: tên đích chỉ gồm chữ không dấu, số, '-' và '_'")
    if not isinstance(raw, dict):
        raise HailongError(f"{where} phải là một mục [deploy.{name}] có kind = \"git\", \"rsync\" "
                           "hoặc \"folder\"")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise HailongError(f"{where}: kind phải là \"git\", \"rsync\" hoặc \"folder\", không phải "
                           f"{kind!r}")
    schema = KINDS[kind]
    options: dict[str, Any] = {}
    for key in raw:
        if key != "kind" and key not in schema:
            raise HailongError(f"{where}: khóa lạ '{key}'; {_suggest(key, ['kind', *schema])}")
    for key, setting in schema.items():
        if key in raw:
            options[key] = _check(f"{where} {key}", setting, raw[key])
        elif setting.default is REQUIRED:
            raise HailongError(f"{where}: thiếu '{key}' ({setting.help})")
        else:
            default = setting.default
            options[key] = list(default) if isinstance(default, list) else default
        if setting.default is REQUIRED and not options[key]:
            raise HailongError(f"{where}: '{key}' không được để trống ({setting.help})")
    if "keep" in options and options["keep"] < 2:
        raise HailongError(f"{where}: keep phải từ 2 trở lên (bản đang chạy và một bản để quay về)")
    return Target(name, kind, options, file.resolve().parent)


def load_targets(config: Path | None = None) -> dict[str, Target]:
    """The targets of [deploy] in `config` (default ./hailong.toml), checked, defaults filled."""
    file = Path(config) if config is not None else DEFAULT_CONFIG
    if not file.is_file():
        raise HailongError(
            f"không tìm thấy tệp cấu hình {file.resolve()}: tạo hailong.toml có mục [deploy.<tên>] "
            "(xem README, mục \"Đưa lên mạng\") hoặc chỉ tệp bằng --config"
        )
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise HailongError(f"{file}: không đọc được TOML ({exc}); sửa dòng đó rồi chạy lại") from None
    except UnicodeDecodeError:
        raise HailongError(f"{file}: không phải văn bản UTF-8; lưu lại tệp dưới dạng UTF-8") from None
    section = raw.get("deploy")
    if not isinstance(section, dict) or not section:
        raise HailongError(f"{file}: chưa có đích nào; thêm một mục [deploy.<tên>] với kind = "
                           "\"git\", \"rsync\" hoặc \"folder\"")
    return {name: _target(file, name, value) for name, value in section.items()}


def choose(targets: dict[str, Target], name: str | None) -> Target:
    """The target called `name`; without a name, the only one there is."""
    if name is None:
        if len(targets) == 1:
            return next(iter(targets.values()))
        raise HailongError(f"hailong.toml có {len(targets)} đích ({', '.join(targets)}): chọn một "
                           "bằng --target TÊN")
    if name not in targets:
        raise HailongError(f"không có đích '{name}' trong hailong.toml; các đích: {', '.join(targets)}")
    return targets[name]
