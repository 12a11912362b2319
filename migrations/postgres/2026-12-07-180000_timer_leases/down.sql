DROP TABLE timer_leases;
