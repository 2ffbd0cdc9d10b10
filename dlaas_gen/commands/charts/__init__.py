"""``dlaas-gen chart pull``: write the chart lock ``charts/<chart>-<version>/`` of a site.

Why: the policy and the value checks must use the defaults and schema of the chart version a
site pins. `dlaas_gen.chart_lock` reads the lock offline (the loader reads it into the loaded
site for a render, and reports a missing one at the site file's ``chart.version``); this package
writes it (`dlaas_gen.commands.charts.pull`).
"""
