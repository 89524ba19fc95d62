"""entragit in pipelines: the steps of the snapshot and restore pipelines that `entragit init --ci` writes
(templates/ in this package), so that their logic is code, tested like the rest, and the YAML stays thin."""
