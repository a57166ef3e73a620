"""The signals counted in SQL (hailong.score.queries: STRAIGHTLINE, SPEED, OFF_HOURS,
MANY_PER_DEVICE, IDENTICAL_*) fire exactly as the numpy code they replaced, frozen under
tests/reference_engine (which told a unit's devices and answer sets apart by a hash of both),
on prepared rows with devices and answer sets shared across units, times on the edges of the
office's hours and before 1970, and durations on the edge of the speed threshold."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
from conftest import SMALL_TOML, write_survey
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_engine.score.signals import device as old_device
from reference_engine.score.signals import identical as old_identical
from reference_engine.score.signals import off_hours as old_off_hours
from reference_engine.score.signals import speed as old_speed
from reference_engine.score.signals import straightline as old_straightline

from hailong.score.signals import device, identical, off_hours, speed, straightline
from hailong.score.signals.base import Rows
from hailong.score.signals.clock import MISSING
from hailong.survey.load import load_survey

UNITS = "code,name,parent,quota_individual,quota_organization\n" + "".join(
    f"X{i:02d},Xã {i},Huyện,15,10\n" for i in range(1, 9))
SURVEY = load_survey(write_survey(
    Path(tempfile.mkdtemp(prefix="hailong-signals-sql-")) / "s",
    SMALL_TOML + "\n[signals]\ndevice_max = 1\nmin_count = 3\nmin_answers = 2\n"
                 "identical_share = 0.4\nidentical_alpha = 0.05\nseconds_per_answer = 0.1\n"
                 "speed_share = 0.3\nstraightline_share = 0.3\noff_hours_share = 0.3\n"
                 'office_days = [1, 3]\noffice_open = "07:30"\n', units=UNITS))
# seconds since 1970 (UTC): Hà Nội's 07:29:59, 07:30, 17:29:59 and 17:30 on a Monday, a Tuesday,
# and times before 1970
STAMPS = [1_718_584_199, 1_718_584_200, 1_718_620_199, 1_718_620_200, 1_718_670_600,
          -86_400 * 365 * 60 - 1, -1]
# microseconds from opening to sending: 0.1 s × 3 answers lies between 299,999 and 300,001
TOOK = [0, 1, 299_999, 300_000, 300_001, 100_000, -5]
SETS = [1, 2, 3, 2**63 + 5, 2**64 - 1]  # answer-set keys: any 64-bit value
one = st.tuples(st.integers(0, 7), st.sampled_from([0, 7, 2**63 + 5]), st.sampled_from(SETS),
                st.integers(0, 3), st.one_of(st.none(), st.sampled_from(STAMPS)),
                st.one_of(st.none(), st.sampled_from(TOOK)), st.integers(0, 3))


def _rows(spec) -> Rows:
    unit = np.array([s[0] for s in spec], dtype=np.int16)
    zeros = np.zeros(len(spec), dtype=np.int64)
    answered = np.array([s[3] for s in spec], dtype=np.int8)
    submitted = np.array([MISSING if len(s) < 5 or s[4] is None else s[4] * 1_000_000
                          for s in spec], dtype=np.int64)
    took = np.array([MISSING if len(s) < 6 or s[5] is None else s[5] for s in spec],
                    dtype=np.int64)
    lined = np.array([s[6] if len(s) > 6 else 0 for s in spec], dtype=np.int8)
    return Rows(unit=unit, submitted=submitted, took=took, answered=answered,
                lined=lined, vector=np.array([s[2] for s in spec], dtype=np.uint64),
                device=np.array([s[1] for s in spec], dtype=np.uint64),
                helper=zeros.astype(np.uint64),
                n=np.bincount(unit, minlength=len(SURVEY.units)).astype(np.int64))


@settings(max_examples=300, deadline=None)
@given(st.lists(one, max_size=160))
def test_sql_signals_fire_as_the_numpy_code(spec):
    rows = _rows(spec)
    for new, old in ((device, old_device), (identical, old_identical), (speed, old_speed),
                     (straightline, old_straightline), (off_hours, old_off_hours)):
        ours = [dataclasses.astuple(f) for f in new.find(rows, SURVEY)]
        assert ours == [dataclasses.astuple(f) for f in old.find(rows, SURVEY)], new.NAME


def test_the_chance_rule_is_compared_where_it_fires():
    """One unit gives one set far more often than the seven others do: both codes fire."""
    spec = [(u, 0, 1000 * u + i, 3) for u in range(8) for i in range(12)]
    spec += [(0, 0, 2**63 + 5, 3)] * 3  # exactly min_count times
    rows = _rows(spec)
    ours = [dataclasses.astuple(f) for f in identical.find(rows, SURVEY)]
    assert ours == [dataclasses.astuple(f) for f in old_identical.find(rows, SURVEY)]
    assert [f[0] for f in ours] == [0] and "khó là ngẫu nhiên" in ours[0][2]


def test_speed_on_the_threshold_falls_as_in_floating_point():
    """0.1 s × 3 answers is 0.30000000000000004 in floating point, so 300,000 µs is too fast
    (numpy's reading, which the SQL keeps by working in DOUBLE, not in exact decimals)."""
    spec = [(0, 0, i, 3, 1_718_584_200, 300_000, 0) for i in range(3)]
    rows = _rows(spec)
    ours = [dataclasses.astuple(f) for f in speed.find(rows, SURVEY)]
    assert ours == [dataclasses.astuple(f) for f in old_speed.find(rows, SURVEY)]
    assert [f[:2] for f in ours] == [(0, 3)]
