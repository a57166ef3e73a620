"""Every setting of survey.toml, declared once with its default and help.

`survey.load_survey` checks a file against this table (unknown keys, types) and fills in the
defaults; the README's table of settings is written from the same help texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hailong.i18n import N_

REQUIRED = object()  # marks a setting without a default


@dataclass(frozen=True)
class Setting:
    types: tuple[type, ...]
    default: Any
    help: str


def _s(types, default, help_):
    return Setting(types if isinstance(types, tuple) else (types,), default, help_)


DEFAULT_LABELS = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]
DEFAULT_BANDS = [
    {"min": 90, "label": "Xuất sắc"},
    {"min": 80, "label": "Tốt"},
    {"min": 65, "label": "Khá"},
    {"min": 50, "label": "Trung bình"},
    {"min": 0, "label": "Yếu"},
]

# the signals of ballot stuffing, in the order signals.csv lists them (contract section 4)
SIGNALS = ("burst", "identical", "straightline", "speed", "off_hours", "device", "ticket_reuse",
           "ticket_uptake", "ticket_age", "helper")
SIGNAL_LABELS = {
    "burst": "Phiếu gửi dồn dập trong vài phút",
    "identical": "Nhiều phiếu trả lời giống hệt nhau",
    "straightline": "Nhiều phiếu chọn cùng một mức cho mọi câu",
    "speed": "Nhiều phiếu gửi quá nhanh",
    "off_hours": "Nhiều phiếu gửi ngoài giờ làm việc",
    "device": "Nhiều phiếu từ một thiết bị",
    "ticket_reuse": "Một vé được nhiều phiếu dùng",
    "ticket_uptake": "Tỷ lệ vé đã phát được dùng cao bất thường",
    "ticket_age": "Nhiều phiếu dùng vé phát từ nhiều ngày trước",
    "helper": "Một người hỗ trợ nhận quá nhiều phiếu trong thời gian ngắn",
}

# section name ("" for the top level) -> setting name -> Setting
SECTIONS: dict[str, dict[str, Setting]] = {
    "": {
        "id": _s(str, REQUIRED, N_("survey id, [a-z0-9-]+; also the URL segment")),
        "title": _s(str, REQUIRED, N_("title shown to citizens, in Vietnamese")),
        "year": _s(int, None, "the year the survey rates"),
        "series": _s(str, None, "surveys of one series are compared across years"),
        "organizer": _s(str, "", "the body running the survey, shown on pages and posters"),
        "intro": _s(str, "", "one or two sentences shown above the questions"),
        "base_url": _s(str, "", "https:// address the site is published at (default of --base-url)"),
        "timezone": _s(str, "Asia/Ho_Chi_Minh", "time zone for the window and daily counts"),
        "access": _s(str, "open", "open | roster | tickets | sample"),
        "respondent_types": _s(list, ["individual"], "individual and/or organization"),
    },
    "window": {
        "start": _s(str, REQUIRED, N_("first survey day, YYYY-MM-DD (local, inclusive)")),
        "end": _s(str, REQUIRED, N_("last survey day, YYYY-MM-DD (local, inclusive)")),
    },
    "scale": {
        "min": _s(int, 1, "lowest answer"),
        "max": _s(int, 5, "highest answer"),
        "satisfied_min": _s(int, 4, "an answer >= this counts as satisfied"),
        "labels": _s(list, DEFAULT_LABELS, "one label per answer, min to max"),
    },
    "scoring": {
        "method": _s(str, "percent_satisfied", "percent_satisfied | mean_score"),
        "min_responses": _s(int, 10, "fewer accepted responses: the unit is not ranked"),
        "bands": _s(list, DEFAULT_BANDS, "bands as {min, label}, highest min first"),
        "unranked_label": _s(str, "Chưa đủ phiếu", "band shown for units not ranked"),
        "min_cell": _s(int, 5, "published cells with fewer answers show 'not enough answers'"),
        "withhold_margin": _s((int, float), 10, "a withheld figure keeps two values consistent "
                              "with every published one at least this many points (0-100) apart"),
    },
    "dedupe": {
        "keep": _s(str, "first", "first | last, for respondent and device duplicates"),
        "by_device": _s(bool, True, "false where citizens share one kiosk device"),
    },
    "collector": {
        "kind": _s(str, "local", "local | apps_script"),
        "url": _s(str, "", "apps_script: the web app's /exec URL"),
    },
    "sheets": {
        "spreadsheet_id": _s((str, list), "", "one spreadsheet id, or a list of them"),
        "range": _s(str, "Responses", "the tab (sheet name) holding the responses"),
    },
    "participation": {
        "min_responses": _s(int, 10, "fewest responses a unit should have each day"),
        "busy_visitors": _s(int, 40, "above this many visitors a day, the minimum is min_busy"),
        "min_busy": _s(int, 20, "fewest responses a day at a busy office"),
        "tolerance": _s(float, 0.5, "responses must lie within visitors x (1 +/- tolerance)"),
    },
    "publish": {
        "min_share": _s(float, 0.5, "refuse to publish a ranking with fewer accepted responses "
                        "than this share of the published one, unless --force (0: never)"),
    },
    "entry": {
        "enabled": _s(bool, False, "build writes the staff data-entry page for paper "
                      "questionnaires at nhap-phieu/ (never published)"),
    },
    "letter": {
        "number": _s(str, "", "the roster letters' number, e.g. \"125/UBND-VP\" (empty: a blank to fill by hand)"),
        "place": _s(str, "", "the place of the letters' date line, e.g. \"Hà Tĩnh\""),
        "date": _s(str, "", "the letters' date, YYYY-MM-DD (default: the day they are made)"),
        "signer_title": _s(str, "", "the signer's title; a line break as \\n, e.g. \"KT. CHỦ TỊCH\\nPHÓ CHỦ TỊCH\""),
        "signer_name": _s(str, "", "the signer's full name"),
    },
    "sampling": {
        "province": _s(str, "", "respondents must live in this province (empty: any)"),
        "fields": _s(list, [], "procedure fields that count (empty: all)"),
        "reserve_ratio": _s(float, 0.5, "reserve size as a share of the sample"),
        "start": _s(str, "", "first date of the sampled period (default: window start)"),
        "end": _s(str, "", "last date of the sampled period (default: window end)"),
    },
    # signs of ballot stuffing (score writes signals.csv); they flag, never drop a row
    "signals": {
        "checks": _s(list, list(SIGNALS), "signals to look for: " + ", ".join(SIGNALS)),
        "public": _s(list, ["burst", "device", "ticket_reuse"],
                     "signals that put the neutral 'being checked' notice on the public unit page"),
        "min_count": _s(int, 5, "a share-based signal fires only with at least this many answers"),
        "burst_minutes": _s(int, 10, "burst: the length of the window, in minutes"),
        "burst_max": _s(int, 10, "burst: more answers than this within burst_minutes at one unit"),
        "identical_share": _s(float, 0.5, "identical: fires above this share of repeated answer sets"),
        "identical_alpha": _s(float, 0.001, "identical: also fires when one answer set is given "
                              "at a unit more often than this unlikely by chance, judged by its "
                              "share at the other units (0: off)"),
        "straightline_share": _s(float, 0.7, "straightline: fires above this share of answers "
                                 "giving every scale question the same answer"),
        "min_answers": _s(int, 3, "identical and straightline count answers to at least this many "
                          "questions only"),
        "seconds_per_answer": _s((int, float), 3, "speed: fewer seconds than this per answered "
                                 "question from started_at to submitted_at is too fast"),
        "speed_share": _s(float, 0.2, "speed: fires above this share of too-fast answers"),
        "office_open": _s(str, "07:00", "off_hours: the office opens, HH:MM local time"),
        "office_close": _s(str, "17:30", "off_hours: the office closes, HH:MM local time"),
        "office_days": _s(list, [1, 2, 3, 4, 5, 6], "off_hours: the office's days, 1 = Monday"),
        "off_hours_share": _s(float, 0.3, "off_hours: fires above this share of answers sent "
                              "outside office hours"),
        "device_max": _s(int, 5, "device: more answers than this from one device at one unit"),
        "uptake_alpha": _s(float, 0.001, "ticket_uptake: fires when a unit's tickets used out of "
                           "those issued would be this unlikely at the survey's usual share "
                           "(a binomial tail), and at least min_count above it"),
        "ticket_age_days": _s(int, 2, "ticket_age: an answer whose ticket was issued at least "
                              "this many days before it is late"),
        "ticket_age_share": _s(float, 0.3, "ticket_age: fires above this share of late answers"),
        "helper_minutes": _s(int, 60, "helper: the length of the window, in minutes"),
        "helper_max": _s(int, 8, "helper: more assisted answers than this by one helper at one "
                         "unit within helper_minutes"),
    },
}

BLOCK_KEYS: dict[str, Setting] = {
    "id": _s(str, REQUIRED, N_("block id, [a-z0-9_-]+")),
    "title": _s(str, REQUIRED, N_("block title, in Vietnamese")),
    "weight": _s((int, float), 1, "weight of the block in the unit index"),
}

QUESTION_KEYS: dict[str, Setting] = {
    "id": _s(str, REQUIRED, N_("question id, [a-z0-9_]+; also the response column")),
    "block": _s(str, REQUIRED, N_("id of the block the question belongs to")),
    "text": _s(str, REQUIRED, N_("the question, in Vietnamese")),
    "type": _s(str, "scale", "scale (scored) | choice | text (never scored or published)"),
    "required": _s(bool, False, "a response leaving it empty is quarantined"),
    "options": _s(list, [], "choice questions: the allowed answers"),
    "help": _s(str, "", "a short hint shown under the question"),
}

# The response columns of the contract (section 2), before the question ids.
META_COLUMNS = [
    "submitted_at",
    "response_id",
    "survey_id",
    "unit_code",
    "respondent_type",
    "respondent_key",
    "device_id",
    "ticket",
    "started_at",
    "channel",
    "entered_by",
    "entry",
]
COMMENT_COLUMN = "comment"
# v3 (contract section 2): how an answer came in; a sheet made before v3 lacks these columns,
# which read as empty (online), so a reader of another's sheet may not require them
CHANNEL_COLUMNS = ("channel", "entered_by", "entry")
REQUIRED_META = [c for c in META_COLUMNS if c not in CHANNEL_COLUMNS]
CHANNELS = ("online", "paper", "assisted")  # participation.csv counts answers by these

RESPONDENT_TYPES = ("individual", "organization")
RESPONDENT_TYPE_LABELS = {"individual": "Cá nhân", "organization": "Tổ chức"}
