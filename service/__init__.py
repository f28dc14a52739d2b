"""Tributary: fund the open source maintainers your software depends on."""

__version__ = "0.1.0"


def create_app(config=None, *, web=True):
    """Flask's entry point (`flask --app service`); see service.app.create_app."""
    from service.app import create_app as factory

    return factory(config, web=web)
