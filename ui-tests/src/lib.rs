//! trybuild cases for cascadia: see `tests/ui.rs`.
