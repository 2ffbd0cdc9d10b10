"""Programs and files that dlaas-gen ships verbatim into the rendered deployment.

Why: these files run elsewhere (hub pod, user pods, the XCache refresh job), so they are stored
as plain source files. They are shipped text: dlaas-gen reads them, and imports the few
functions it shares with them, through `dlaas_gen.payloads` only.
"""
