"""Survey: reads a survey folder (survey.toml, units.csv and the hand-edited tables) into a `Survey`.
Gives: `Survey`, the table readers, roster members and the signing of personal tokens.
Must not import: any stage (collect, ingest, score, publish, field); only errors, layout, fsutil."""
