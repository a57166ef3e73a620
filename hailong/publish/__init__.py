"""Publish: takes the data files score wrote (ranking.csv, questions.csv, participation.csv…);
gives the results pages under <out>/site/<id>/ket-qua/, downloads and history snapshots.
Must not import: field, jobs, cli; never reads responses.csv nor calls scoring."""
