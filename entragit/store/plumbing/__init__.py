"""The git plumbing that makes the backup repository fast, apart from what the repository means.

It stores bytes at paths and knows nothing of object types or YAML: entragit.store tells it how an object
becomes a path and bytes. Its parts: GitPython with failures as one line (commands), processes fed one
stream from the snapshot's threads (feed), the files of a new folder written by tar from hand-made headers
(tar), blobs stored by one git fast-import (fastimport), a new folder's files prepared beside the working
tree and added to a copy of the index as they are written (index), the threaded Stager that drives them
while the tenant is read (stager), and the interpreter's settings for that heavy work (tuning).
"""
