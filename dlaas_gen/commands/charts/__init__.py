"""``dlaas-gen chart pull``: write the chart lock ``charts/<chart>-<version>/`` of a site.

Why: the policy and the value checks must use the defaults and schema of the chart version a
site pins. `dlaas_gen.chart_lock` reads the lock offline (render, validate); this package
writes it (`dlaas_gen.commands.charts.pull`) and locates a missing one in the site file
(`dlaas_gen.commands.charts.site`).
"""
