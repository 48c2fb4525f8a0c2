-- the document of the latest `readmit monitor` run (no row before the first)
SELECT summary FROM monitor.reports ORDER BY report_id DESC LIMIT 1
