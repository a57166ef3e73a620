"""Score: takes raw.csv (or --responses); gives responses, quarantine, duplicates, ranking, questions,
block_answers, respondent_types, participation and completion (.csv) under <out>/<id>/data/.
Must not import: publish, field, jobs, cli."""
