"""The signals counted in SQL (hailong.score.queries: MANY_PER_DEVICE, IDENTICAL_*) fire exactly
as the numpy code they replaced, frozen under tests/reference_engine (which told a unit's
devices and answer sets apart by a hash of both), on prepared rows with devices and answer
sets shared across units."""

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

from hailong.score.signals import device, identical
from hailong.score.signals.base import Rows
from hailong.survey.load import load_survey

UNITS = "code,name,parent,quota_individual,quota_organization\n" + "".join(
    f"X{i:02d},Xã {i},Huyện,15,10\n" for i in range(1, 9))
SURVEY = load_survey(write_survey(
    Path(tempfile.mkdtemp(prefix="hailong-signals-sql-")) / "s",
    SMALL_TOML + "\n[signals]\ndevice_max = 1\nmin_count = 3\nmin_answers = 2\n"
                 "identical_share = 0.4\nidentical_alpha = 0.05\n", units=UNITS))
SETS = [1, 2, 3, 2**63 + 5, 2**64 - 1]  # answer-set keys: any 64-bit value
one = st.tuples(st.integers(0, 7), st.sampled_from([0, 7, 2**63 + 5]), st.sampled_from(SETS),
                st.integers(0, 3))


def _rows(spec) -> Rows:
    unit = np.array([s[0] for s in spec], dtype=np.int16)
    zeros = np.zeros(len(spec), dtype=np.int64)
    answered = np.array([s[3] for s in spec], dtype=np.int8)
    return Rows(unit=unit, submitted=zeros, took=zeros, answered=answered,
                lined=zeros.astype(np.int8), vector=np.array([s[2] for s in spec], dtype=np.uint64),
                device=np.array([s[1] for s in spec], dtype=np.uint64),
                helper=zeros.astype(np.uint64),
                n=np.bincount(unit, minlength=len(SURVEY.units)).astype(np.int64))


@settings(max_examples=300, deadline=None)
@given(st.lists(one, max_size=160))
def test_sql_signals_fire_as_the_numpy_code(spec):
    rows = _rows(spec)
    for new, old in ((device, old_device), (identical, old_identical)):
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
