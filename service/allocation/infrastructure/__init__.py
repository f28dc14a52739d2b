"""Funding the registries a company's software is downloaded from ("infrastructure share").

- ``table``: the shipped, operator-editable table ecosystem → steward → channels (pure).
- ``split``: the company's dependence per ecosystem and the stewards' candidates (pure).
- ``stewards``: the stewards as payable recipients in the database, and the inputs a
  proposal needs.
"""
