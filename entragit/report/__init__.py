"""A difference report and a restore plan in words: the report's model (model.py), made by entragit.diff,
and its renderers, one module per reader (table: a terminal; markdown: a pull request; json_report: a
machine, and the report cache's schema; html_report: a browser; plan: a restore plan). formats.py chooses
a renderer by the name `--format` takes.

Importing the model loads no renderer: the work layer reads the model, only the commands render.
"""
