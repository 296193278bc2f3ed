"""Case work: opening a case, the assessment, the service plan (goals, tasks, reviews) and
the plans partner agencies serve."""
