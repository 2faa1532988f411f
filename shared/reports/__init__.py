"""Reports: day and range figures from the ticket timeline, the SKM satisfaction survey
(PermenPAN-RB 14/2017) and the retention of personal data (UU 27/2022).

Modules: `figures` (the numbers), `skm` (the survey and its index), `retention` (purge,
masking, audit log), `render` (CSV, JSON, HTML), `cli` (`giliran report …`), `views`
(the `reports` blueprint), `models` (SurveyResponse, AuditEntry).
"""
