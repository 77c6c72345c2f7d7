//! Browser tests of the console: console_cases.
