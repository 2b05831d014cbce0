"""The synthetic Chuzhou behind `manage.py seed_demo` (docs/demo.md).

geography: fixed names, codes and boxes · plan: the territory as plain data · people: families, phones, ID numbers ·
households: the register and key places, written in batches · generate: the database writes, reset and summary.
"""
