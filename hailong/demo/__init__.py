"""Demo: takes a shipped survey; generates realistic answers into its local sheet and runs the
whole pipeline on them (`hailong demo`).
Must not import: cli."""
