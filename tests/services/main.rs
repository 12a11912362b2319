//! Use-cases run directly (no HTTP) on real storage: SQLite, or PostgreSQL when
//! `WEIR_TEST_DATABASE_URL` is set. For domain rules whose HTTP routes come later.

mod iot;
