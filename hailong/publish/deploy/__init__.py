"""Deploy: takes the built site <out>/site/ and the targets of hailong.toml [deploy.<name>];
gives the site on a git branch, or a new release behind a `current` symlink (rsync, folder).
Must not import: field, jobs, cli, score, ingest; never sends anything outside <out>/site/."""
