"""Signs of ballot stuffing: one small module per signal, run by run.find_signals.
Takes accepted responses and the survey's [signals] thresholds; gives signals.csv rows.
Must not import publish, field, jobs, demo or cli; a signal flags, it never drops a row."""
