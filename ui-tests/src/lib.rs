//! trybuild cases for cascadia's compile-time checks: see `tests/ui.rs`,
//! `fail/` (one rule per file, named after it) and `pass/`.
