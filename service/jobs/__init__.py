"""Background work: the leased task queue, the periodic-job registry, the scheduler and
the worker processes."""

COMMANDS = {
    "scheduler": (
        "service.jobs.cli:scheduler_command",
        "Queue periodic work when it comes due (one scheduler schedules; others stand by).",
    ),
    "worker": (
        "service.jobs.cli:worker_command",
        "Run queued tasks until stopped (N threads, some task kinds if asked).",
    ),
    "jobs": ("service.jobs.cli:jobs_group", "Inspect and run background work by hand."),
}
