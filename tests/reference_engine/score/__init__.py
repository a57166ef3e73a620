"""Score: takes raw.csv (or --responses); gives responses, quarantine, duplicates, ranking, questions,
block_answers, respondent_types, intervals, signals, participation and completion (.csv), and last
run.json (their records and SHA-256) under <out>/<id>/data/.
Must not import: publish, field, jobs, cli."""
