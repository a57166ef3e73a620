"""Ingest: takes the shared sheet (the local sheet.csv or Google Sheets); gives <out>/<id>/data/raw.csv
with its pull state, and reads response files into frames for scoring.
Must not import: score, publish, field; of collect only the local sheet's reader."""
