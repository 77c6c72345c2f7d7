//! Browser tests of the console: console_letters.
