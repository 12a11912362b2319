DROP TABLE flow_logs;
