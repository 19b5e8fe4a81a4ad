//! Integration tests: the real `audit` binary on real files and a real PostgreSQL.

mod support;

mod accept;
mod accuracy;
mod agreement;
mod ci;
mod clocks;
mod copies;
mod db;
mod dbfaults;
mod errors;
mod explain;
mod forensics;
mod hostile;
mod html;
mod incident;
mod levels;
mod logs;
mod outputs;
mod partition;
mod synth;
mod usage;
mod watch;
