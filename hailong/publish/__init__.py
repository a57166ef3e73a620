"""Publish: takes the data files score wrote (ranking, questions, block_answers, respondent_types, intervals, participation, completion .csv),
only once dataset.verify finds them one score run's set (run.json);
gives the results pages under <out>/site/<id>/ket-qua/, downloads and history snapshots.
Must not import: score, ingest (checked), field, jobs, cli; never reads responses.csv (dataset.verify only hashes it when it is there)."""
