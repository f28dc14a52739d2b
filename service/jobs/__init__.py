"""Background work: the task queue, the periodic-job registry and the scheduler process."""

COMMANDS = {
    "scheduler": (
        "service.jobs.cli:scheduler_command",
        "Run the scheduler (monthly proposals, nightly refresh, the task queue) until stopped.",
    ),
    "jobs": ("service.jobs.cli:jobs_group", "Inspect and run background work by hand."),
}
