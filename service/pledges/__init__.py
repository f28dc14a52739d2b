"""Pledges: the monthly amounts a company committed to, from its approved proposals."""
