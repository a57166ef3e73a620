"""The device signal, counted in SQL (hailong.score.queries.MANY_PER_DEVICE), fires exactly as
the numpy code it replaced, frozen under tests/reference_engine (which told a unit's devices
apart by a hash of both), on prepared rows with devices shared across units."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
from conftest import SMALL_TOML, write_survey
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_engine.score.signals import device as old_device

from hailong.score.signals import device
from hailong.score.signals.base import Rows
from hailong.score.signals.clock import MISSING
from hailong.survey.load import load_survey

SURVEY = load_survey(write_survey(
    Path(tempfile.mkdtemp(prefix="hailong-signals-device-")) / "s",
    SMALL_TOML + "\n[signals]\ndevice_max = 1\n"))
SECONDS = [-86_400 * 365 * 60 - 1, -61, -1, 0, 30, 59, 60, 61, 119, 120, 1_718_150_400,
           1_718_150_460, 1_718_150_461]
one = st.tuples(st.integers(0, 2), st.one_of(st.none(), st.sampled_from(SECONDS)),
                st.integers(0, 999_999), st.sampled_from([0, 7, 2**63 + 5]),
                st.sampled_from([0, 11, 2**64 - 1]))


@settings(max_examples=300, deadline=None)
@given(st.lists(one, max_size=40))
def test_device_fires_as_the_numpy_code(spec):
    unit = np.array([s[0] for s in spec], dtype=np.int16)
    submitted = np.array([MISSING if s[1] is None else s[1] * 1_000_000 + s[2] for s in spec],
                         dtype=np.int64)
    zeros = np.zeros(len(spec), dtype=np.int64)
    rows = Rows(unit=unit, submitted=submitted, took=zeros, answered=zeros.astype(np.int8),
                lined=zeros.astype(np.int8), vector=zeros.astype(np.uint64),
                device=np.array([s[3] for s in spec], dtype=np.uint64),
                helper=np.array([s[4] for s in spec], dtype=np.uint64),
                n=np.bincount(unit, minlength=len(SURVEY.units)).astype(np.int64))
    ours = [dataclasses.astuple(f) for f in device.find(rows, SURVEY)]
    assert ours == [dataclasses.astuple(f) for f in old_device.find(rows, SURVEY)]
