"""Notifications: in-app notices, e-mail and signed webhooks, sent from the queue."""
