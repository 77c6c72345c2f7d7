//! Tests of the comparison levels, blocking, EM, model text and end-to-end quality.
