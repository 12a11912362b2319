//! Every endpoint over real HTTP against the in-process server. The same suite runs on
//! SQLite (default) and on PostgreSQL (`WEIR_TEST_DATABASE_URL`).

mod smoke;
