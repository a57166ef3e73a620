"""Collect: takes a `Survey`; gives the citizen pages under <out>/site/, QR codes, posters and PDFs,
and the local collector (`serve`) that appends answers to <out>/<id>/sheet.csv.
Must not import: ingest, score, publish, field (results pages are the publish stage's)."""
