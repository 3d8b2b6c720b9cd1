//! Validation of invoice submissions (canonical and the seed shape).
