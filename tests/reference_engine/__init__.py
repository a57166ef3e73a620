"""The score engine as it was before issue 26 (pyarrow/pandas/numpy, ~3,000 lines), frozen as
the reference the DuckDB engine must match byte for byte (tests/test_engine_reference.py,
bench/score_bench.py). Do not edit: a change here changes what "identical" means.

Entry point: reference_engine.score.pipeline.score(survey, out, responses, chunk_rows).
"""
