"""Field: takes a `Survey` and the data files; gives what staff take into the field: the daily
progress report, roster members' personal links and letters, and the sample lists.
Must not import: publish, jobs, cli."""
