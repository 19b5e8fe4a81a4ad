//! Integration tests: the real `audit` binary on real files and a real PostgreSQL.

mod support;

mod accuracy;
mod db;
mod errors;
mod incident;
mod logs;
mod synth;
