"""Background work: the leased task queue, the periodic-job registry, the scheduler and
the worker processes."""

COMMANDS = {
    "scheduler": (
        "service.jobs.cli:scheduler_command",
        "Queue periodic work when it comes due (one schedules; others stand by).",
    ),
    "worker": (
        "service.jobs.cli:worker_command",
        "Run queued tasks until stopped (SIGTERM finishes or releases the current ones).",
    ),
    "jobs": ("service.jobs.cli:jobs_group", "Inspect and run background work by hand."),
}
