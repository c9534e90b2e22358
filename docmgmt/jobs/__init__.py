"""Background work through a task queue (Huey), with each job's state, progress and outcome in
the database (docmgmt/jobs/operations.py). See README "Background work"."""
